//! Lays an address out by its country's libaddressinput format string (`%O%n%A%n%C, %S %Z` …). The
//! recipient name (`%N`) is left out: the engine never echoes personal names.

use super::model::Standardized;

pub fn render(fmt: &str, address: &Standardized) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = Some(fmt);
    while let Some(remaining) = rest {
        let (template_line, next) = match find_pair(remaining, b"%n") {
            Some(at) => (&remaining[..at], Some(&remaining[at + 2..])),
            None => (remaining, None),
        };
        rest = next;
        if let Some(at) = find_pair(template_line, b"%A") {
            let (before, after) = (fill(&template_line[..at], address), fill(&template_line[at + 2..], address));
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
            continue;
        }
        let filled = fill(template_line, address);
        if !filled.is_empty() {
            out.push(filled);
        }
    }
    out
}

/// Replaces the placeholders of one template line and tidies the separators that empty fields leave behind.
fn fill(template: &str, address: &Standardized) -> String {
    let value = |field: Option<char>| match field {
        Some('O') => address.organization.as_deref(),
        Some('C') => address.locality.as_deref(),
        Some('S') => address.region.as_deref(),
        Some('Z') => address.postcode.as_deref(),
        Some('D') => address.dependent_locality.as_deref(),
        _ => None,
    };
    // Sized before it is filled: the line is built without growing.
    let mut len = 0;
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        len += if c == '%' { value(chars.next()).map_or(0, str::len) } else { c.len_utf8() };
    }
    let mut text = String::with_capacity(len);
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            text.push(c);
            continue;
        }
        text.push_str(value(chars.next()).unwrap_or(""));
    }
    let trimmed = text.trim_matches(|c: char| c.is_whitespace() || c == ',' || c == '-' || c == '〒');
    let has_content = trimmed.chars().any(char::is_alphanumeric);
    if !has_content {
        return String::new();
    }
    // "〒" only belongs in front of a postcode.
    let start =
        if text.trim_start().starts_with('〒') && address.postcode.is_some() { text.trim_start() } else { trimmed };
    // Most lines need no tidying: no stray separators, single spaces.
    if find_pair(start, b" ,").is_none() && find_pair(start, b",,").is_none() && crate::text::is_squashed(start) {
        let tidy = start.trim_end_matches([',', ' ']);
        // The filled text itself when nothing was trimmed off.
        return if tidy.len() == text.len() { text } else { tidy.to_owned() };
    }
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

    #[test]
    fn us_layout_puts_city_state_zip_on_one_line() {
        let address = Standardized {
            lines: vec!["1600 PENNSYLVANIA AVE NW".into()],
            locality: Some("WASHINGTON".into()),
            region: Some("DC".into()),
            postcode: Some("20500".into()),
            ..Standardized::default()
        };
        assert_eq!(render("%N%n%O%n%A%n%C, %S %Z", &address), vec!["1600 PENNSYLVANIA AVE NW", "WASHINGTON, DC 20500"]);
    }

    #[test]
    fn missing_fields_leave_no_stray_separators() {
        let address =
            Standardized { lines: vec!["1 MAIN ST".into()], postcode: Some("12345".into()), ..Standardized::default() };
        assert_eq!(render("%A%n%C, %S %Z", &address), vec!["1 MAIN ST", "12345"]);
    }
}
