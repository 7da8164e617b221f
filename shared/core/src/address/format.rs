//! Lays an address out by its country's libaddressinput format string (`%O%n%A%n%C, %S %Z` …). The
//! recipient name (`%N`) is left out: the engine never echoes personal names.

use super::model::Standardized;

/// A format string cut once into lines of literal text and fields, so that laying out an address reads no
/// format syntax: each country's is parsed with its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    lines: Vec<TemplateLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TemplateLine {
    /// A line with `%A`: the street lines, the text before it going in front of the first, the text after it
    /// behind the last.
    Street {
        before: Vec<Piece>,
        after: Vec<Piece>,
    },
    Fields(Vec<Piece>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(Field),
}

/// The placeholders that print a field; the others (`%N`, `%X`, a second `%A`) print nothing and are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Organization,
    Locality,
    Region,
    Postcode,
    DependentLocality,
}

impl Field {
    fn of(placeholder: char) -> Option<Self> {
        Some(match placeholder {
            'O' => Field::Organization,
            'C' => Field::Locality,
            'S' => Field::Region,
            'Z' => Field::Postcode,
            'D' => Field::DependentLocality,
            _ => return None,
        })
    }
}

impl Template {
    pub fn parse(fmt: &str) -> Self {
        let mut lines = Vec::new();
        let mut rest = Some(fmt);
        while let Some(remaining) = rest {
            let (template_line, next) = match find_pair(remaining, b"%n") {
                Some(at) => (&remaining[..at], Some(&remaining[at + 2..])),
                None => (remaining, None),
            };
            rest = next;
            lines.push(match find_pair(template_line, b"%A") {
                Some(at) => TemplateLine::Street {
                    before: pieces(&template_line[..at]),
                    after: pieces(&template_line[at + 2..]),
                },
                None => TemplateLine::Fields(pieces(template_line)),
            });
        }
        Template { lines }
    }

    /// The template without the commas of its literal text: USPS Publication 28 puts no punctuation on the
    /// last line (`WASHINGTON DC 20500`).
    pub fn without_commas(mut self) -> Self {
        let pieces = self.lines.iter_mut().flat_map(|line| match line {
            TemplateLine::Street { before, after } => [before.as_mut_slice(), after.as_mut_slice()],
            TemplateLine::Fields(pieces) => [pieces.as_mut_slice(), &mut []],
        });
        for piece in pieces.flatten() {
            if let Piece::Text(text) = piece {
                text.retain(|c| c != ',');
            }
        }
        self
    }

    pub fn render(&self, address: &Standardized) -> Vec<String> {
        let mut out = Vec::new();
        for line in &self.lines {
            match line {
                TemplateLine::Street { before, after } => {
                    let (before, after) = (fill(before, address), fill(after, address));
                    let count = address.lines.len();
                    for (i, line) in address.lines.iter().enumerate() {
                        let mut text = line.clone();
                        if i == 0 && !before.is_empty() {
                            text = format!("{before} {text}");
                        }
                        if i + 1 == count && !after.is_empty() {
                            text = format!("{text} {after}");
                        }
                        out.push(text);
                    }
                }
                TemplateLine::Fields(pieces) => {
                    let filled = fill(pieces, address);
                    if !filled.is_empty() {
                        out.push(filled);
                    }
                }
            }
        }
        out
    }
}

/// The literal runs and placeholders of one template line.
fn pieces(template: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            text.push(c);
            continue;
        }
        if let Some(field) = chars.next().and_then(Field::of) {
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            pieces.push(Piece::Field(field));
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    pieces
}

/// What a piece prints for `address`.
fn piece_value<'a>(piece: &'a Piece, address: &'a Standardized) -> Option<&'a str> {
    match piece {
        Piece::Text(text) => Some(text),
        Piece::Field(Field::Organization) => address.organization.as_deref(),
        Piece::Field(Field::Locality) => address.locality.as_deref(),
        Piece::Field(Field::Region) => address.region.as_deref(),
        Piece::Field(Field::Postcode) => address.postcode.as_deref(),
        Piece::Field(Field::DependentLocality) => address.dependent_locality.as_deref(),
    }
}

/// Fills one template line and tidies the separators that empty fields leave behind.
fn fill(pieces: &[Piece], address: &Standardized) -> String {
    if pieces.is_empty() {
        return String::new();
    }
    let value = |piece| piece_value(piece, address);
    // Sized before it is filled: the line is built without growing.
    let mut text = String::with_capacity(pieces.iter().map(|p| value(p).map_or(0, str::len)).sum());
    for piece in pieces {
        text.push_str(value(piece).unwrap_or(""));
    }
    if text.is_ascii() { tidy_ascii(text) } else { tidy(text, address.postcode.is_some()) }
}

/// Tidies a filled line: trims it, drops it when it holds no letter or digit, and removes stray separators.
fn tidy(text: String, has_postcode: bool) -> String {
    let trimmed = text.trim_matches(|c: char| c.is_whitespace() || c == ',' || c == '-' || c == '〒');
    let has_content = trimmed.chars().any(char::is_alphanumeric);
    if !has_content {
        return String::new();
    }
    // "〒" only belongs in front of a postcode.
    let start = if text.trim_start().starts_with('〒') && has_postcode { text.trim_start() } else { trimmed };
    // Most lines need no tidying: no stray separators, single spaces.
    if find_pair(start, b" ,").is_none() && find_pair(start, b",,").is_none() && crate::text::is_squashed(start) {
        let kept = start.trim_end_matches([',', ' ']);
        // The filled text itself when nothing was trimmed off.
        return if kept.len() == text.len() { text } else { kept.to_owned() };
    }
    tidy_separators(start)
}

/// [`tidy`] for an ASCII line (every line of most countries), byte by byte and in one pass over the
/// line for the common one that needs none.
fn tidy_ascii(text: String) -> String {
    let space = crate::text::is_ascii_space;
    let edge = |b: &u8| space(*b) || matches!(b, b',' | b'-');
    let bytes = text.as_bytes();
    let Some(first) = bytes.iter().position(|b| !edge(b)) else { return String::new() };
    let last = bytes.iter().rposition(|b| !edge(b)).unwrap_or(first);
    let trimmed = &bytes[first..=last];
    if !trimmed.iter().any(u8::is_ascii_alphanumeric) {
        return String::new();
    }
    // No space before a comma, no two commas, and single spaces: the line needs no tidying.
    let mut previous = 0u8;
    let clean = trimmed.iter().all(|&b| {
        let fine = match b {
            b' ' => previous != b' ',
            b',' => !matches!(previous, b' ' | b','),
            _ => !space(b),
        };
        previous = b;
        fine
    });
    match (clean, trimmed.len() == bytes.len()) {
        (true, true) => text,
        // Only ASCII bytes were cut off: the rest is text.
        (true, false) => text[first..=last].to_owned(),
        (false, _) => tidy_separators(&text[first..=last]),
    }
}

/// A line with stray separators or spaces, tidied.
fn tidy_separators(start: &str) -> String {
    crate::text::squash_spaces(&start.replace(" ,", ",").replace(",,", ",")).trim_end_matches([',', ' ']).to_owned()
}

/// Byte offset of a two-character ASCII marker (`%n`, `" ,"`): cheaper than a substring search for so short a
/// needle.
fn find_pair(text: &str, pair: &[u8; 2]) -> Option<usize> {
    text.as_bytes().windows(2).position(|w| w == pair)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(fmt: &str, address: &Standardized) -> Vec<String> {
        Template::parse(fmt).render(address)
    }

    proptest::proptest! {
        #[test]
        fn the_ascii_tidying_agrees_with_the_general_one(text in "[ ,a-c1\t\x0b-]{0,16}") {
            proptest::prop_assert_eq!(tidy_ascii(text.clone()), tidy(text, false));
        }
    }

    fn white_house() -> Standardized {
        Standardized {
            lines: vec!["1600 PENNSYLVANIA AVE NW".into()],
            locality: Some("WASHINGTON".into()),
            region: Some("DC".into()),
            postcode: Some("20500".into()),
            ..Standardized::default()
        }
    }

    #[test]
    fn us_layout_puts_city_state_zip_on_one_line() {
        let address = white_house();
        assert_eq!(render("%N%n%O%n%A%n%C, %S %Z", &address), vec!["1600 PENNSYLVANIA AVE NW", "WASHINGTON, DC 20500"]);
    }

    #[test]
    fn a_template_without_commas_lays_out_the_same_fields() {
        let full = white_house();
        let us = Template::parse("%N%n%O%n%A%n%C, %S %Z").without_commas();
        assert_eq!(us.render(&full), vec!["1600 PENNSYLVANIA AVE NW", "WASHINGTON DC 20500"]);
        let no_region = Standardized { region: None, ..full.clone() };
        assert_eq!(us.render(&no_region), vec!["1600 PENNSYLVANIA AVE NW", "WASHINGTON 20500"]);
        let no_locality = Standardized { locality: None, ..full };
        assert_eq!(us.render(&no_locality), vec!["1600 PENNSYLVANIA AVE NW", "DC 20500"]);
    }

    #[test]
    fn missing_fields_leave_no_stray_separators() {
        let address =
            Standardized { lines: vec!["1 MAIN ST".into()], postcode: Some("12345".into()), ..Standardized::default() };
        assert_eq!(render("%A%n%C, %S %Z", &address), vec!["1 MAIN ST", "12345"]);
    }

    #[test]
    fn a_template_is_cut_into_lines_of_text_and_fields() {
        let text = |s: &str| Piece::Text(s.to_owned());
        assert_eq!(
            Template::parse("%N%n%O%n%A%n%C, %S %Z").lines,
            vec![
                TemplateLine::Fields(vec![]),
                TemplateLine::Fields(vec![Piece::Field(Field::Organization)]),
                TemplateLine::Street { before: vec![], after: vec![] },
                TemplateLine::Fields(vec![
                    Piece::Field(Field::Locality),
                    text(", "),
                    Piece::Field(Field::Region),
                    text(" "),
                    Piece::Field(Field::Postcode)
                ]),
            ]
        );
        // Text and a field around the street; the sorting code and a stray `%` print nothing.
        assert_eq!(
            Template::parse("〒%Z %A, %C%X%").lines,
            vec![TemplateLine::Street {
                before: vec![text("〒"), Piece::Field(Field::Postcode), text(" ")],
                after: vec![text(", "), Piece::Field(Field::Locality)],
            }]
        );
    }

    #[test]
    fn text_around_the_street_goes_before_the_first_line_and_after_the_last() {
        let address = Standardized {
            lines: vec!["1-1 MARUNOUCHI".into(), "BLDG 2".into()],
            locality: Some("CHIYODA-KU".into()),
            postcode: Some("100-0005".into()),
            ..Standardized::default()
        };
        // Each side is tidied as a line of its own: the comma that opens ", %C" goes, a space joins it.
        assert_eq!(render("%Z %A, %C", &address), vec!["100-0005 1-1 MARUNOUCHI", "BLDG 2 CHIYODA-KU"]);
    }
}
