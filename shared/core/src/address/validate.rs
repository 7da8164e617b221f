//! The validation pipeline: resolve the country, move hints out, split free text, standardize street lines,
//! check postcode, region and locality against each other and the reference data, then flag and decide.

use std::borrow::Cow;
use std::ops::Range;

use super::hints::{self, HintKind};
use super::model::*;
use super::postcode::{self, Normalized};
use super::refdata::{self, CountryFormat, folded_place_keys, place_keys, postcodes};
use super::{index, intl, remote, residential, us};
use crate::contract::{ApiError, MAX_ADDRESS_LINES, MAX_FIELD_CHARS};
use crate::text::{
    fold, fold_cow, fold_into, folds_to_any, has_non_latin_letters, is_folded, is_near_miss, is_squashed,
    squash_spaces, trim,
};

/// Validates and standardizes one address. Errors are only for requests that cannot be read (no or unknown
/// country, oversized fields); everything wrong with the address itself is reported in the result.
pub fn validate(request: &AddressRequest) -> Result<AddressResult, ApiError> {
    let country = resolve_country(request)?;
    check_limits(request)?;
    let mut work = Work::new(country, request);
    work.split_text(request.text.as_deref());
    // After the split too: a hint that shared its text segment with the locality stands alone in a line now.
    work.take_hints();
    if work.is_empty() {
        work.issue(
            IssueCode::EmptyAddress,
            "address",
            Severity::Error,
            "the address is empty: give street lines, a locality and a postcode",
        );
        return Ok(work.finish());
    }
    let lines_before = work.lines.len();
    if country.code == "US" {
        work.us_street_lines();
    } else {
        work.intl_street_lines();
    }
    // Standardizing can split a line ("… PO BOX 1" → two lines), leaving a hint alone in a line of its own.
    if work.lines.len() > lines_before {
        work.take_hints();
    }
    work.check_postcode();
    work.check_region();
    work.check_locality();
    work.check_required();
    work.check_carrier();
    Ok(work.finish())
}

fn non_empty(value: Option<&String>) -> Option<String> {
    value.map(|v| trim(v)).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// [`non_empty`] without the copy.
fn trimmed(value: Option<&String>) -> Option<&str> {
    value.map(|v| trim(v)).filter(|v| !v.is_empty())
}

fn first_of(values: &[Option<&String>]) -> Option<String> {
    values.iter().find_map(|v| non_empty(*v))
}

fn resolve_country(request: &AddressRequest) -> Result<&'static CountryFormat, ApiError> {
    let (typed, field) = match (trimmed(request.country_code.as_ref()), trimmed(request.country.as_ref())) {
        (Some(code), _) => (code, "country_code"),
        (None, Some(country)) => (country, "country"),
        (None, None) => {
            return Err(ApiError::new(
                422,
                "missing_country",
                "country is required: an ISO 3166-1 alpha-2 code such as US, GB or DE",
            )
            .with_field("country"));
        }
    };
    refdata::country_of(typed).ok_or_else(|| {
        ApiError::new(
            422,
            "unknown_country",
            format!("'{typed}' is not a known country: expected an ISO 3166-1 alpha-2 code such as US, GB or DE"),
        )
        .with_field(field)
    })
}

/// The field path of street line `i`, without formatting for the first lines.
fn line_field(i: usize) -> Cow<'static, str> {
    const FIELDS: [&str; 4] = ["lines[0]", "lines[1]", "lines[2]", "lines[3]"];
    FIELDS.get(i).map_or_else(|| Cow::Owned(format!("lines[{i}]")), |field| Cow::Borrowed(*field))
}

/// `text.lines().count()`, by counting line feeds: a last line without one counts too.
fn line_count(text: &str) -> usize {
    text.bytes().filter(|b| *b == b'\n').count() + usize::from(!text.is_empty() && !text.ends_with('\n'))
}

fn check_limits(request: &AddressRequest) -> Result<(), ApiError> {
    let line_count = request.lines.len() + request.text.as_deref().map_or(0, |t| line_count(t).saturating_sub(1));
    if line_count > MAX_ADDRESS_LINES {
        return Err(ApiError::new(
            422,
            "too_many_lines",
            format!("{line_count} address lines given: at most {MAX_ADDRESS_LINES} are accepted"),
        )
        .with_field("lines"));
    }
    let fields = [
        ("text", request.text.as_ref(), 2 * MAX_FIELD_CHARS),
        ("address1", request.address1.as_ref(), MAX_FIELD_CHARS),
        ("address2", request.address2.as_ref(), MAX_FIELD_CHARS),
        ("locality", request.locality.as_ref().or(request.city.as_ref()), MAX_FIELD_CHARS),
        ("region", request.region.as_ref().or(request.province.as_ref()), MAX_FIELD_CHARS),
        ("postcode", request.postcode.as_ref().or(request.zip.as_ref()), MAX_FIELD_CHARS),
        ("organization", request.organization.as_ref().or(request.company.as_ref()), MAX_FIELD_CHARS),
        ("name", request.name.as_ref(), MAX_FIELD_CHARS),
        ("phone", request.phone.as_ref(), MAX_FIELD_CHARS),
    ];
    // Counting characters only when the byte length could exceed the limit keeps the common case cheap.
    let too_long = |value: &str, limit: usize| value.len() > limit && value.chars().count() > limit;
    let failed = fields
        .into_iter()
        .find_map(|(name, value, limit)| value.filter(|v| too_long(v, limit)).map(|v| (name.to_owned(), v, limit)))
        .or_else(|| {
            request
                .lines
                .iter()
                .enumerate()
                .find(|(_, l)| too_long(l, MAX_FIELD_CHARS))
                .map(|(i, l)| (format!("lines[{i}]"), l, MAX_FIELD_CHARS))
        });
    if let Some((field, value, limit)) = failed {
        let len = value.chars().count();
        return Err(ApiError::new(
            422,
            "field_too_long",
            format!("{field} has {len} characters: at most {limit} are accepted"),
        )
        .with_field(field));
    }
    Ok(())
}

/// The address while it is being validated.
struct Work<'a> {
    country: &'static CountryFormat,
    request: &'a AddressRequest,
    lines: Vec<String>,
    /// The lines are the US free-text split's, unchanged since (see [`intl::FreeText::lines_are_words`]).
    lines_are_words: bool,
    /// The locality is the US free-text split's.
    locality_from_text: bool,
    /// The free text held no word that could start a hint, and the split's words are its own: its lines and
    /// locality need no second look for hints.
    text_words_hold_no_hint: bool,
    locality: Option<String>,
    /// Borrowed from the country's regions once it names one.
    region: Option<Cow<'static, str>>,
    postcode: Option<String>,
    organization: Option<String>,
    dependent_locality: Option<String>,
    region_code: Option<Cow<'static, str>>,
    components: Components,
    issues: Vec<Issue>,
    changes: Vec<Change>,
    instructions: Vec<String>,
    vague: bool,
    /// `postcode` passed the format check and is in canonical form.
    postcode_is_valid: bool,
    /// The reference row of the valid postcode.
    info: Option<&'static refdata::PostcodeInfo>,
}

impl<'a> Work<'a> {
    fn new(country: &'static CountryFormat, request: &'a AddressRequest) -> Self {
        let lines = request
            .lines
            .iter()
            .chain(request.address1.iter())
            .chain(request.address2.iter())
            .map(|l| trim(l))
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        Work {
            country,
            request,
            lines,
            lines_are_words: false,
            locality_from_text: false,
            text_words_hold_no_hint: false,
            locality: first_of(&[request.locality.as_ref(), request.city.as_ref()]),
            region: first_of(&[
                request.region.as_ref(),
                request.province_code.as_ref(),
                request.state.as_ref(),
                request.province.as_ref(),
            ])
            .map(Cow::Owned),
            postcode: first_of(&[request.postcode.as_ref(), request.zip.as_ref()]),
            organization: first_of(&[request.organization.as_ref(), request.company.as_ref()]),
            dependent_locality: non_empty(request.dependent_locality.as_ref()),
            region_code: None,
            components: Components::default(),
            issues: Vec::new(),
            changes: Vec::new(),
            instructions: Vec::new(),
            vague: false,
            postcode_is_valid: false,
            info: None,
        }
    }

    fn is_us(&self) -> bool {
        self.country.code == "US"
    }

    fn issue(
        &mut self,
        code: IssueCode,
        field: impl Into<Cow<'static, str>>,
        severity: Severity,
        message: impl Into<Cow<'static, str>>,
    ) {
        self.issues.push(Issue { code, field: field.into(), severity, message: message.into() });
    }

    fn change(&mut self, kind: ChangeKind, field: impl Into<Cow<'static, str>>, from: Option<&str>, to: Option<&str>) {
        if from != to {
            self.changes.push(Change {
                kind,
                field: field.into(),
                from: from.map(str::to_owned),
                to: to.map(str::to_owned),
            });
        }
    }

    fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.locality.is_none() && self.region.is_none() && self.postcode.is_none()
    }

    fn record_hints(&mut self, field: Cow<'static, str>, found: Vec<hints::Hint>) {
        for hint in found {
            self.vague |= hint.kind == HintKind::Landmark;
            self.changes.push(Change {
                kind: ChangeKind::Move,
                field: field.clone(),
                from: Some(hint.text.clone()),
                to: None,
            });
            self.instructions.push(hint.text);
        }
    }

    /// Moves delivery hints out of the street lines and the locality.
    fn take_hints(&mut self) {
        // The split's words, which the free text's probe found no hint word among, hold none.
        let no_hint = std::mem::take(&mut self.text_words_hold_no_hint);
        if !(no_hint && self.lines_are_words) {
            self.take_line_hints();
        }
        if let Some(locality) = self.locality.take() {
            if no_hint && self.locality_from_text {
                self.locality = Some(locality);
                return;
            }
            let (address, found) = hints::extract_owned(locality);
            self.record_hints(Cow::Borrowed("locality"), found);
            self.locality = Some(address).filter(|a| !a.is_empty());
        }
    }

    fn take_line_hints(&mut self) {
        // In place: each line replaced by what is left of it, the emptied ones dropped after.
        let mut lines = std::mem::take(&mut self.lines);
        for (i, line) in lines.iter_mut().enumerate() {
            let (address, found) = hints::extract_owned(std::mem::take(line));
            if !found.is_empty() {
                self.record_hints(line_field(i), found);
                self.lines_are_words = false;
            }
            *line = address;
        }
        lines.retain(|line| !line.is_empty());
        self.lines = lines;
    }

    /// Splits free text into the fields the structured input left empty.
    fn split_text(&mut self, text: Option<&str>) {
        let Some(text) = text.map(trim).filter(|t| !t.is_empty()) else { return };
        let joined;
        let text = if text.contains('\n') {
            joined = text.replace('\n', ", ");
            joined.as_str()
        } else {
            text
        };
        // The US split reads the hint probe's answer off its words, which saves the probe's pass over the text;
        // text with a hint is split again once the hint is out.
        let us_split = self.is_us().then(|| us::split_free_text(text));
        let may_hold_a_hint = match us_split.as_ref().and_then(|split| split.may_hold_a_hint) {
            Some(answer) => answer,
            None => hints::may_hold_a_hint(text),
        };
        let (address, found) = if may_hold_a_hint {
            let (address, found) = hints::extract_probed(text);
            (Cow::Owned(address), found)
        } else {
            (Cow::Borrowed(text), Vec::new())
        };
        self.record_hints(Cow::Borrowed("text"), found);
        let parsed = match us_split {
            Some(split) if !may_hold_a_hint => split,
            _ if self.is_us() => us::split_free_text(&address),
            _ => intl::split_free_text(self.country, &address),
        };
        self.text_words_hold_no_hint = !may_hold_a_hint && parsed.words_as_typed;
        if self.lines.is_empty() {
            self.lines = parsed.lines;
            self.lines_are_words = parsed.lines_are_words;
        }
        self.locality_from_text = self.locality.is_none() && parsed.locality.is_some();
        self.locality = self.locality.take().or(parsed.locality);
        self.region = self.region.take().or(parsed.region);
        self.postcode = self.postcode.take().or(parsed.postcode);
    }

    fn military_context(&self) -> bool {
        self.locality.as_deref().is_some_and(is_military_city)
            || self.region.as_deref().is_some_and(|r| folds_to_any(r, &MILITARY_STATES))
    }

    /// USPS Pub 28: one delivery line (street, PO box, rural route or military box) with its unit, uppercase,
    /// abbreviated, unpunctuated.
    fn us_street_lines(&mut self) {
        let military = self.military_context();
        // The lines are rebuilt below.
        let lines = std::mem::take(&mut self.lines);
        // The words of every line in one buffer, unless the free-text split cut them already.
        let (mut buf, mut spans, mut ends) = (String::new(), Vec::new(), Vec::new());
        if !std::mem::take(&mut self.lines_are_words) {
            buf.reserve(lines.iter().map(String::len).sum());
            for l in &lines {
                us::tokenize(l, &mut buf, &mut spans);
                ends.push(spans.len());
            }
        }
        // Every line's words in one list, each line's a range of it: no list of its own per line. Sized by the
        // tokenizer's count where it ran; the split's lines are a few words each.
        let mut words: Vec<&str> = Vec::with_capacity(if ends.is_empty() { 16 } else { spans.len() });
        let mut parsed: Vec<(&str, Range<usize>, us::StreetLine)> = Vec::with_capacity(lines.len());
        for (i, l) in lines.iter().enumerate() {
            let start = words.len();
            match ends.get(i) {
                // One word per span: the words so far are the spans read so far.
                Some(&end) => words.extend(us::words_of(&buf, &spans[start..end])),
                // The split's lines are its words joined by single spaces.
                None => words.extend(l.split_ascii_whitespace()),
            }
            parsed.push((l, start..words.len(), us::StreetLine::default()));
            if let Some((_, range, line)) = parsed.last_mut() {
                us::parse_line_into(&words[range.clone()], military, line);
            }
        }
        let is_delivery = |(_, range, line): &(&str, Range<usize>, us::StreetLine)| {
            line.parts.po_box.is_some()
                || line.parts.military.is_some()
                || line.parts.rural_route.is_some()
                || line.parts.house_number.is_some() && us::unit_only(&words[range.clone()]).is_none()
        };
        // The delivery line; failing one, the first street named without a number (flagged below).
        let primary = parsed.iter().position(is_delivery).or_else(|| {
            parsed.iter().position(|(_, range, line)| {
                line.parts.street_name.is_some() && us::unit_only(&words[range.clone()]).is_none()
            })
        });
        let mut out_lines = Vec::new();
        // The delivery line is worked on where it lies in `parsed`: a street line is a large value to move.
        for i in 0..parsed.len() {
            let original = parsed[i].0;
            if Some(i) == primary {
                // The delivery line keeps its place; filled in below once units from other lines joined it.
                out_lines.push((i, true, String::new()));
                continue;
            }
            if let (Some(p), Some((unit_type, unit_number))) = (primary, us::unit_only(&words[parsed[i].1.clone()])) {
                let main = &mut parsed[p].2;
                if main.parts.unit_type.is_none() && main.parts.street_name.is_some() {
                    main.unit_missing_number = unit_number.is_none()
                        && unit_type != "#"
                        && us::unit_designator(unit_type).is_some_and(|(_, needs)| needs);
                    main.parts.unit_type = Some(Cow::Borrowed(unit_type));
                    main.parts.unit_number = unit_number.map(str::to_owned);
                    self.change(ChangeKind::Standardize, line_field(i), Some(original), None);
                    continue;
                }
            }
            out_lines.push((i, true, words[parsed[i].1.clone()].join(" ")));
        }
        let Some(p) = primary else {
            if !parsed.is_empty() {
                self.issue(
                    IssueCode::MissingHouseNumber,
                    "lines[0]",
                    Severity::Error,
                    "no line has a house number, PO box, rural route or military box",
                );
            }
            return self.set_us_lines(lines, out_lines);
        };
        let main = &mut parsed[p].2;
        if let Some(at) = out_lines.iter().position(|(index, _, _)| *index == p) {
            out_lines.remove(at);
            for (k, rendered) in main.render_lines().into_iter().enumerate() {
                out_lines.insert(at + k, (p, k == 0, rendered));
            }
        }
        if main.unit_missing_number {
            let message = format!(
                "unit designator {} has no number: add the apartment or suite number",
                main.parts.unit_type.as_deref().unwrap_or_default()
            );
            self.issue(IssueCode::MissingUnitNumber, "lines[0]", Severity::Warning, message);
        }
        if main.parts.street_name.is_some() && main.parts.house_number.is_none() {
            self.issue(
                IssueCode::MissingHouseNumber,
                "lines[0]",
                Severity::Error,
                "the street line has no house number",
            );
        }
        self.components = std::mem::take(&mut main.parts);
        self.set_us_lines(lines, out_lines);
    }

    /// The standardized US lines, each with the index of the typed line it came from and whether it is the first
    /// line written for it (a line split off a typed one is new), and the changes between them; the organization
    /// uppercased as Pub 28 writes it.
    fn set_us_lines(&mut self, mut typed: Vec<String>, out_lines: Vec<(usize, bool, String)>) {
        self.lines = Vec::with_capacity(out_lines.len());
        for (new_index, (index, from_typed, standardized)) in out_lines.into_iter().enumerate() {
            // The typed line moves into its change: nothing reads it after.
            let from = from_typed.then(|| std::mem::take(&mut typed[index]));
            if from.as_deref() != Some(standardized.as_str()) {
                self.changes.push(Change {
                    kind: ChangeKind::Standardize,
                    field: line_field(new_index),
                    from,
                    to: Some(standardized.clone()),
                });
            }
            self.lines.push(standardized);
        }
        if let Some(org) = self.organization.take() {
            let upper = squash_spaces(&org.to_uppercase());
            self.change(ChangeKind::Standardize, "organization", Some(&org), Some(&upper));
            self.organization = Some(upper);
        }
    }

    fn intl_street_lines(&mut self) {
        let upper = self.country.uppercases('A');
        let mut lines = Vec::new();
        for (i, line) in std::mem::take(&mut self.lines).into_iter().enumerate() {
            let mut standardized = squash_spaces(line.trim_end_matches([',', ';']));
            if upper {
                standardized = standardized.to_uppercase();
            }
            self.change(ChangeKind::Standardize, line_field(i), Some(&line), Some(&standardized));
            lines.push(standardized);
        }
        self.components = intl::components(&self.country.code, &lines);
        let checks_number = matches!(
            self.country.code.as_str(),
            "CA" | "AU"
                | "DE"
                | "AT"
                | "CH"
                | "FR"
                | "NL"
                | "BE"
                | "IT"
                | "ES"
                | "GB"
                | "IE"
                | "NZ"
                | "LU"
                | "DK"
                | "SE"
                | "NO"
                | "FI"
                | "PL"
        );
        if checks_number
            && !lines.is_empty()
            && self.components.po_box.is_none()
            && !intl::has_house_number(&self.components, &lines)
        {
            let severity =
                if matches!(self.country.code.as_str(), "GB" | "IE") { Severity::Warning } else { Severity::Error };
            self.issue(
                IssueCode::MissingHouseNumber,
                "lines[0]",
                severity,
                "no house or building number in the street lines",
            );
        }
        if let Some(org) = self.organization.take() {
            let standardized =
                if self.country.uppercases('O') { squash_spaces(&org.to_uppercase()) } else { squash_spaces(&org) };
            self.change(ChangeKind::Standardize, "organization", Some(&org), Some(&standardized));
            self.organization = Some(standardized);
        }
        self.lines = lines;
    }

    fn check_postcode(&mut self) {
        // Every branch below puts a postcode back.
        let Some(typed) = self.postcode.take() else {
            // Inferred before the region and locality checks, which both lean on the postcode.
            if let Some(inferred) = self.infer_postcode() {
                self.change(ChangeKind::Infer, "postcode", None, Some(&inferred));
                self.set_valid_postcode(inferred);
            }
            return;
        };
        match postcode::normalize(self.country, &typed) {
            Normalized::Standard(canonical) => {
                self.change(ChangeKind::Standardize, "postcode", Some(&typed), Some(&canonical));
                self.set_valid_postcode(canonical);
            }
            Normalized::Corrected(corrected) => {
                self.change(ChangeKind::Correct, "postcode", Some(&typed), Some(&corrected));
                self.set_valid_postcode(corrected);
            }
            Normalized::Invalid => {
                let example = self.country.postcode_examples.first().cloned().unwrap_or_default();
                self.issue(
                    IssueCode::PostcodeFormat,
                    "postcode",
                    Severity::Error,
                    format!("'{typed}' is not a valid {} postcode (e.g. {example})", self.country.name),
                );
                self.postcode = Some(typed.to_uppercase());
            }
        }
        // `valid_postcode()` by its fields: the components are written while the postcode is borrowed.
        if let Some(valid) = self.postcode.as_deref().filter(|_| self.postcode_is_valid) {
            if self.country.code == "US" {
                if let Some(hyphen) = valid.bytes().position(|b| b == b'-') {
                    self.components.zip4 = Some(valid[hyphen + 1..].to_owned());
                }
            }
            // `info` is the row of this very postcode, looked up when it was recorded.
            let unknown = postcodes(&self.country.code).is_some()
                && self.info.is_none()
                && matches!(self.country.code.as_str(), "US" | "DE" | "AT" | "AU" | "FR");
            if unknown {
                let message = format!("postcode {valid} is well formed but not in the reference data");
                self.issue(IssueCode::UnknownPostcode, "postcode", Severity::Warning, message);
            }
        }
    }

    /// Records a postcode that passed the format check and looks up its reference row once.
    fn set_valid_postcode(&mut self, postcode: String) {
        self.info = index::postcode_info(&self.country.code, &lookup_key(&self.country.code, &postcode));
        self.postcode = Some(postcode);
        self.postcode_is_valid = true;
    }

    /// The postcode, if it passed the format check.
    fn valid_postcode(&self) -> Option<&str> {
        self.postcode.as_deref().filter(|_| self.postcode_is_valid)
    }

    fn postcode_info(&self) -> Option<&'static refdata::PostcodeInfo> {
        self.info
    }

    /// The region the postcode belongs to, by the metadata's postcode prefixes or the postcode data.
    fn region_of_postcode(&self) -> Option<&'static refdata::Region> {
        let valid = self.valid_postcode()?;
        let compact = postcode::compact_cow(valid);
        let by_prefix: Vec<&refdata::Region> = self.country.regions_for_postcode(&compact);
        if let [only] = by_prefix.as_slice() {
            return Some(only);
        }
        let admin = &self.postcode_info()?.admin;
        let by_data = self.country.regions.iter().find(|r| &r.key == admin || r.iso.as_deref() == Some(*admin));
        by_data.filter(|r| by_prefix.is_empty() || by_prefix.iter().any(|p| p.key == r.key))
    }

    fn check_region(&mut self) {
        let has_regions = !self.country.regions.is_empty();
        // Taken here and put back (standardized) on every path that keeps it.
        match self.region.take() {
            Some(typed) if has_regions => {
                let Some(region) = self.country.region(&typed) else {
                    self.issue(
                        IssueCode::UnknownRegion,
                        "region",
                        Severity::Error,
                        format!("'{typed}' is not a region of {}", self.country.name),
                    );
                    self.region = Some(typed);
                    return;
                };
                let shown = self.region_form(region, &typed);
                self.change(ChangeKind::Standardize, "region", Some(&typed), Some(&shown));
                self.region = Some(shown);
                self.region_code = region.iso_code.as_deref().map(Cow::Borrowed);
                if self.is_us() {
                    self.check_military_region(region);
                }
                let mismatch = self.valid_postcode().is_some_and(|valid| {
                    region.postcode_prefix.as_ref().is_some_and(|p| !p.is_match(&postcode::compact_cow(valid)))
                });
                if mismatch {
                    let valid = self.valid_postcode().unwrap_or_default().to_owned();
                    let owner =
                        self.region_of_postcode().map(|r| r.key.clone()).unwrap_or_else(|| "another region".into());
                    let code = if self.is_us() && self.military_context() {
                        IssueCode::MilitaryRegionMismatch
                    } else {
                        IssueCode::PostcodeRegionMismatch
                    };
                    self.issue(
                        code,
                        "postcode",
                        Severity::Error,
                        format!("postcode {valid} belongs to {owner}, not {}", region.key),
                    );
                }
            }
            // This country's addresses carry no region: drop it rather than print it on the label.
            Some(typed) if !self.country.uses('S') => {
                self.change(ChangeKind::Standardize, "region", Some(&typed), None);
                self.region = None;
            }
            Some(typed) => self.region = Some(typed),
            None if has_regions && self.country.uses('S') => match self.region_of_postcode() {
                Some(region) => {
                    let shown = self.region_form(region, "");
                    self.change(ChangeKind::Infer, "region", None, Some(&shown));
                    self.region = Some(shown);
                    self.region_code = region.iso_code.as_deref().map(Cow::Borrowed);
                }
                None if self.country.requires('S') => {
                    self.issue(
                        IssueCode::MissingRegion,
                        "region",
                        Severity::Error,
                        format!(
                            "a {} address needs a region and none could be inferred from the postcode",
                            self.country.name
                        ),
                    );
                }
                None => {}
            },
            None => {}
        }
    }

    /// The spelling the label uses: the metadata key, or the Latin name for a Latin-script Japanese address.
    fn region_form<'r>(&self, region: &'r refdata::Region, typed: &str) -> Cow<'r, str> {
        let latin_input = !typed.is_empty() && !has_non_latin_letters(typed)
            || typed.is_empty() && !self.lines.iter().any(|l| has_non_latin_letters(l));
        match &region.latin_name {
            Some(latin) if has_non_latin_letters(&region.key) && latin_input => Cow::Owned(latin.to_uppercase()),
            _ => Cow::Borrowed(&region.key),
        }
    }

    fn check_military_region(&mut self, region: &refdata::Region) {
        let military_region = is_military_state(&region.key);
        let military_city = self.locality.as_deref().is_some_and(is_military_city);
        if military_city && !military_region {
            self.issue(
                IssueCode::MilitaryRegionMismatch,
                "region",
                Severity::Error,
                format!("APO/FPO/DPO addresses use AA, AE or AP as the state, not {}", region.key),
            );
        }
    }

    /// What the reference data knows about the localities of the postcode, by how reliable its place names are.
    fn locality_reference(&self) -> Option<LocalityReference> {
        let info = self.postcode_info()?;
        let table = postcodes(&self.country.code)?;
        match self.country.code.as_str() {
            // Places of the ZIP; USPS also accepts other names of nearby places (Hollywood in Los Angeles).
            "US" => Some(LocalityReference {
                known: Cow::Borrowed(info.places),
                warn: true,
                nearby: true,
                infer: info.places.first().map(|p| Cow::Borrowed(*p)),
            }),
            // A postcode shared by several places (AU 2000: Barangaroo, Sydney …) names none of them for sure.
            "DE" | "AT" | "AU" | "FR" => Some(LocalityReference {
                known: Cow::Borrowed(info.places),
                warn: true,
                nearby: false,
                infer: match info.places {
                    [only] => Some(Cow::Borrowed(*only)),
                    _ => None,
                },
            }),
            // GB rows are per outward code and name districts; the post town is the area's most frequent place.
            "GB" => {
                let valid = self.valid_postcode()?;
                let area: String = valid.chars().take_while(char::is_ascii_alphabetic).collect();
                let area_places = table.area_places(&area);
                let post_town = refdata::gb_post_town(&area).or_else(|| area_places.first().copied());
                let mut known = info.places.to_vec();
                known.extend(area_places);
                known.extend(post_town);
                let infer = post_town.map(Cow::Borrowed);
                Some(LocalityReference { known: Cow::Owned(known), warn: true, nearby: false, infer })
            }
            // CA rows name forward sortation areas ("Downtown Toronto (Harbourfront)"): good for spotting a typo
            // of the town they contain, too coarse to call any locality wrong.
            "CA" => {
                let known = info
                    .places
                    .iter()
                    .flat_map(|p| p.split(['(', ')', '/', ',']).map(str::trim).filter(|w| !w.is_empty()))
                    .collect();
                Some(LocalityReference { known: Cow::Owned(known), warn: false, nearby: false, infer: None })
            }
            _ => None,
        }
    }

    fn check_locality(&mut self) {
        let military = self.locality.as_deref().is_some_and(is_military_city);
        let reference = if military { None } else { self.locality_reference() };
        let upper = self.uppercases_locality();
        let spelled = |place: &str| if upper { place.to_uppercase() } else { place.to_owned() };
        // Taken here and put back standardized below.
        match self.locality.take() {
            Some(typed) => {
                let folded = fold_cow(&typed);
                // The typed spelling or a place's from the data, borrowed until the standardized one is written.
                let mut shown: &str = &typed;
                let mut kind = ChangeKind::Standardize;
                if let Some(reference) = &reference {
                    let canonical = us::canonical_place_cow(&folded);
                    // "Frankfurt" for "Frankfurt am Main", "Halle" for "Halle (Saale)": the leading words of a
                    // place's name are that place too.
                    let short_form = |key: &str| {
                        folded.len() >= 4 && key.starts_with(&*folded) && key[folded.len()..].starts_with(' ')
                    };
                    // Each place folded into one buffer, its keys borrowed from it: no allocation per place.
                    let mut folded_place = String::new();
                    let mut folds_as_typed = false;
                    let known = reference.known.iter().find(|place| {
                        // Spelt as typed but for case, the commonest match: the place folds to the typed fold,
                        // and the buffer is not needed.
                        if place.eq_ignore_ascii_case(&folded) {
                            folds_as_typed = true;
                            return true;
                        }
                        fold_into(place, &mut folded_place);
                        folded_place_keys(&folded_place).any(|k| *k == *folded || *k == canonical || short_form(&k))
                    });
                    if let Some(place) = known {
                        // The data's spelling when it differs only by case or accents ("koln" → "Köln"), unless
                        // the typed one carries accents the data lacks ("Montréal" over "Montreal"). The buffer
                        // holds the place folded, unless it matched as typed.
                        let accents = |s: &str| s.chars().filter(|c| !c.is_ascii() && c.is_alphabetic()).count();
                        if (folds_as_typed || *folded_place == *folded) && accents(place) >= accents(&typed) {
                            shown = place;
                        }
                    } else if let Some(place) = reference.known.iter().find(|p| {
                        place_keys(p).iter().any(|k| is_near_miss(&folded, k)) || is_transliteration(&typed, p)
                    }) {
                        shown = place;
                        // "Muenchen" is München spelt without umlauts: a spelling, not a correction.
                        kind = if is_transliteration(&typed, place) {
                            ChangeKind::Standardize
                        } else {
                            ChangeKind::Correct
                        };
                    } else if reference.warn
                        && !folded.contains(" CEDEX")
                        && !(reference.nearby && self.is_nearby_place(&folded))
                    {
                        let places = reference.known.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
                        let pc = self.valid_postcode().unwrap_or_default().to_owned();
                        self.issue(
                            IssueCode::PostcodeLocalityMismatch,
                            "locality",
                            Severity::Warning,
                            format!("'{typed}' is not a place known for postcode {pc} ({places})"),
                        );
                    }
                }
                let rewritten = if upper && is_folded(shown) {
                    // Uppercase, unpunctuated and single-spaced already.
                    None
                } else if upper {
                    Some(upper_locality(shown, self.is_us()))
                } else {
                    Some(squash_spaces(shown))
                };
                self.change(kind, "locality", Some(&typed), Some(rewritten.as_deref().unwrap_or(shown)));
                let standardized = match rewritten {
                    Some(rewritten) if rewritten == typed => typed,
                    Some(rewritten) => rewritten,
                    None if shown == typed => typed,
                    None => shown.to_owned(),
                };
                self.locality = Some(standardized);
            }
            None => match reference.and_then(|r| r.infer) {
                Some(place) => {
                    let shown = spelled(&place);
                    self.change(ChangeKind::Infer, "locality", None, Some(&shown));
                    self.locality = Some(shown);
                }
                None if self.country.requires('C') => {
                    self.issue(
                        IssueCode::MissingLocality,
                        "locality",
                        Severity::Error,
                        "the locality (city or town) is missing",
                    );
                }
                None => {}
            },
        }
        self.components.locality = self.locality.clone();
    }

    fn uppercases_locality(&self) -> bool {
        self.is_us() || self.country.uppercases('C')
    }

    /// A place of the same region within 30 km of the postcode's centroid: an acceptable alternative name
    /// (Hollywood for a Los Angeles ZIP).
    fn is_nearby_place(&self, folded: &str) -> bool {
        let Some(info) = self.postcode_info() else { return false };
        let (Some(table), Some((lat, lon))) = (postcodes(&self.country.code), info.centroid()) else { return false };
        table.postcodes_of_place(folded).iter().filter_map(|p| table.get(p)).any(|other| {
            other.admin == info.admin
                && other.centroid().is_some_and(|other| crate::geo::distance_km((lat, lon), other) <= 30.0)
        })
    }

    fn check_required(&mut self) {
        if self.country.requires('A') && self.lines.is_empty() {
            self.issue(IssueCode::MissingStreet, "lines", Severity::Error, "no street line, PO box or military box");
        }
        if self.country.requires('Z') && self.postcode.is_none() {
            self.issue(
                IssueCode::MissingPostcode,
                "postcode",
                Severity::Error,
                format!("a {} address needs a postcode", self.country.name),
            );
        }
        self.components.region = self.region.clone();
        self.components.postcode = self.postcode.clone();
    }

    /// The postcode of a locality that has exactly one in its region (from full-postcode tables only: a GB
    /// outward code or a CA FSA is not a postcode).
    fn infer_postcode(&self) -> Option<String> {
        if matches!(self.country.code.as_str(), "GB" | "CA") {
            return None;
        }
        let table = postcodes(&self.country.code)?;
        let locality = fold(self.locality.as_deref()?);
        let region_key =
            self.region.as_deref().map(|r| self.country.region(r).map_or_else(|| r.to_owned(), |r| r.key.clone()));
        let region = region_key.as_deref();
        let candidates: Vec<&str> = table
            .postcodes_of_place(&locality)
            .iter()
            .copied()
            .filter(|p| region.is_none_or(|r| table.get(p).is_some_and(|i| i.admin == r)))
            .collect();
        match candidates.as_slice() {
            [only] if region.is_some() || !self.country.uses('S') => Some((*only).to_owned()),
            _ => None,
        }
    }

    fn check_carrier(&mut self) {
        if self.request.carrier_kind != Some(CarrierKind::Courier) {
            return;
        }
        if self.components.po_box.is_some() {
            self.issue(
                IssueCode::PoBoxNotAllowedForCourier,
                "lines[0]",
                Severity::Error,
                "couriers cannot deliver to a PO box: give a street address",
            );
        }
        if self.components.military.is_some() || self.military_context() {
            self.issue(
                IssueCode::MilitaryNotAllowedForCourier,
                "lines[0]",
                Severity::Error,
                "APO/FPO/DPO mail travels only by the postal service",
            );
        }
    }

    fn finish(mut self) -> AddressResult {
        if self.vague {
            self.issue(
                IssueCode::VagueLocation,
                "lines",
                Severity::Warning,
                "the address relied on a landmark; it was moved to the delivery instructions",
            );
        }
        let geocode = self.geocode();
        let remote_area = self.valid_postcode().and_then(|p| remote::lookup(&self.country.code, p));
        let military = self.components.military.is_some()
            || self.military_context() && self.components.po_box.is_none() && !self.lines.is_empty();
        let po_box = self.components.po_box.is_some();
        let residential = residential::classify(
            self.organization.as_deref(),
            &self.lines,
            self.components.unit_type.as_deref(),
            po_box,
            military,
        );
        let mut standardized = Standardized {
            lines: self.lines,
            locality: self.locality,
            dependent_locality: self.dependent_locality,
            region: self.region,
            region_code: self.region_code,
            postcode: self.postcode,
            organization: self.organization,
            formatted: Vec::new(),
        };
        // Only a country with a Latin-script format (JP, CN, KR …) asks which script the address is in.
        let latin = || !standardized.lines.iter().chain(standardized.locality.iter()).any(|l| has_non_latin_letters(l));
        let template = match &self.country.latin_template {
            Some(latin_template) if latin() => latin_template,
            _ => &self.country.template,
        };
        standardized.formatted = template.render(&standardized);
        if self.country.code == "US" {
            // Pub 28: no punctuation on a label. The country's template has none left; an organization may.
            for line in standardized.formatted.iter_mut().filter(|l| l.contains(',')) {
                line.retain(|c| c != ',');
            }
        }
        // Free text as typed next to the whole standardized address, so a reader sees the change at a glance.
        if let Some(text) = self.request.text.as_deref().map(trim).filter(|t| !t.is_empty()) {
            let whole = standardized.formatted.join(", ");
            if text != whole {
                self.changes.push(Change {
                    kind: ChangeKind::Standardize,
                    field: Cow::Borrowed("text"),
                    from: Some(text.to_owned()),
                    to: Some(whole),
                });
            }
        }
        let verdict = if self.issues.iter().any(|i| i.severity == Severity::Error) {
            Verdict::Invalid
        } else if self.changes.iter().any(|c| c.kind != ChangeKind::Standardize) {
            Verdict::Fixable
        } else {
            Verdict::Valid
        };
        AddressResult {
            verdict,
            country: Cow::Borrowed(&self.country.code),
            standardized,
            components: self.components,
            issues: self.issues,
            changes: self.changes,
            flags: Flags { po_box, military, residential, remote_area, vague_location: self.vague },
            delivery_instructions: (!self.instructions.is_empty()).then(|| self.instructions.join("; ")),
            geocode,
        }
    }

    fn geocode(&self) -> Option<Geocode> {
        let (lat, lon) = self.postcode_info()?.centroid()?;
        let precision = match self.country.code.as_str() {
            "GB" => GeoPrecision::OutwardCode,
            "CA" => GeoPrecision::Fsa,
            _ => GeoPrecision::Postcode,
        };
        Some(Geocode { lat, lon, precision })
    }
}

/// Places the reference data knows for a postcode, and how far to trust them.
struct LocalityReference {
    known: Cow<'static, [&'static str]>,
    /// A locality that is none of them gets a warning.
    warn: bool,
    /// Nearby places of the same region are acceptable names too.
    nearby: bool,
    /// The locality to fill in when none was given.
    infer: Option<Cow<'static, str>>,
}

/// The "states" of military post: Armed Forces Americas, Europe, Pacific.
const MILITARY_STATES: [&str; 3] = ["AA", "AE", "AP"];

/// Whether a region code is one of [`MILITARY_STATES`], compared inline as literal patterns.
fn is_military_state(code: &str) -> bool {
    matches!(code, "AA" | "AE" | "AP")
}

/// APO, FPO or DPO: the "city" of military post.
fn is_military_city(locality: &str) -> bool {
    folds_to_any(locality, &["APO", "FPO", "DPO"])
}

/// "Muenchen" for "München": German umlauts written as two letters.
fn is_transliteration(typed: &str, place: &str) -> bool {
    let expand = |s: &str| fold(&s.replace(['ä', 'Ä'], "ae").replace(['ö', 'Ö'], "oe").replace(['ü', 'Ü'], "ue"));
    place.chars().any(|c| "äöüÄÖÜ".contains(c)) && expand(place) == fold(typed)
}

/// The key of a postcode in the country's table: ZIP5 for US, the outward code for GB, the FSA for CA.
pub(super) fn lookup_key<'a>(country: &str, postcode: &'a str) -> Cow<'a, str> {
    // The first `n` characters, borrowed when they are ASCII.
    let leading = |n: usize| match postcode.get(..n.min(postcode.len())) {
        Some(key) if key.is_ascii() => Cow::Borrowed(key),
        _ => Cow::Owned(postcode.chars().take(n).collect()),
    };
    match country {
        "US" => leading(5),
        "GB" => Cow::Borrowed(postcode.split(' ').next().unwrap_or(postcode)),
        "CA" => leading(3),
        _ => Cow::Borrowed(postcode),
    }
}

/// The locality as labels print it where it is uppercased: without US punctuation, single-spaced.
fn upper_locality(shown: &str, us: bool) -> String {
    if !shown.is_ascii() {
        return squash_spaces(&strip_us_punctuation(shown, us).to_uppercase());
    }
    // One pass over the bytes of ASCII names, and no squashing when the spaces are single already.
    let bytes = shown.bytes().map(|b| if us && matches!(b, b'.' | b',') { b' ' } else { b.to_ascii_uppercase() });
    // ASCII in, ASCII out: the check cannot fail.
    let upper = String::from_utf8(bytes.collect()).unwrap_or_default();
    if is_squashed(&upper) { upper } else { squash_spaces(&upper) }
}

fn strip_us_punctuation(s: &str, us: bool) -> String {
    if us { s.replace(['.', ','], " ") } else { s.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn military_states_are_matched_inline_as_listed() {
        assert!(MILITARY_STATES.iter().all(|state| is_military_state(state)));
        assert!(!is_military_state("AL") && !is_military_state("ae"));
    }
}
