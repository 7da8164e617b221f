//! Reference data for the address engine, compiled into the binary (see `build.rs`) and parsed once per
//! process on first use. Nothing here reads files at run time.

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;
use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::{Anchored, Input};
use serde::Deserialize;

use super::format::Template;
use super::wordmap::WordMap;
use crate::text::{fold, fold_cow};

/// A pattern compiled on first use. There are thousands of region postcode patterns and a request touches
/// one or two: compiling them all at start-up would cost tens of megabytes of automata.
#[derive(Debug)]
pub struct LazyRegex {
    pattern: String,
    compiled: OnceLock<Option<Matcher>>,
}

/// A compiled pattern: a DFA built ahead of the search where it is small (postcode patterns are), which
/// answers in a few instructions a byte, and the regex engine for the rest.
#[derive(Debug)]
enum Matcher {
    /// Boxed: a DFA's header alone is larger than a regex.
    Dfa(Box<dense::DFA<Vec<u32>>>),
    Regex(Regex),
}

/// The largest DFA a pattern is built into, in bytes; past it the pattern is searched by the regex engine.
const DFA_SIZE_LIMIT: usize = 256 * 1024;

impl LazyRegex {
    fn new(pattern: String) -> Self {
        Self { pattern, compiled: OnceLock::new() }
    }

    fn matcher(&self) -> Option<&Matcher> {
        self.compiled
            .get_or_init(|| {
                let config = dense::Config::new()
                    .start_kind(StartKind::Anchored)
                    .dfa_size_limit(Some(DFA_SIZE_LIMIT))
                    .determinize_size_limit(Some(DFA_SIZE_LIMIT));
                match dense::Builder::new().configure(config).build(&self.pattern) {
                    Ok(dfa) => Some(Matcher::Dfa(Box::new(dfa))),
                    Err(_) => Regex::new(&self.pattern).ok().map(Matcher::Regex),
                }
            })
            .as_ref()
    }

    /// Whether the metadata's pattern compiles (a pattern that does not matches nothing).
    pub fn compiles(&self) -> bool {
        self.matcher().is_some()
    }

    pub fn is_match(&self, text: &str) -> bool {
        match self.matcher() {
            Some(Matcher::Dfa(dfa)) => {
                let input = Input::new(text).anchored(Anchored::Yes).earliest(true);
                // The automaton walked byte by byte, as regex-automata's documentation shows: for a text as short
                // as a postcode the search routine's set-up costs more than the walk. A DFA reports a match one
                // byte late, so a match state at any step, or after the end of the text, is a match.
                let Ok(mut state) = dfa.start_state_forward(&input) else { return false };
                for &b in text.as_bytes() {
                    state = dfa.next_state(state, b);
                    if dfa.is_special_state(state) {
                        if dfa.is_match_state(state) {
                            return true;
                        }
                        if dfa.is_dead_state(state) {
                            return false;
                        }
                        // Only bytes the DFA was built to give up on lead to a quit state; these DFAs have none,
                        // but the search routine would say so, and it decides then.
                        if dfa.is_quit_state(state) {
                            return dfa.try_search_fwd(&input).is_ok_and(|found| found.is_some());
                        }
                    }
                }
                dfa.is_match_state(dfa.next_eoi_state(state))
            }
            Some(Matcher::Regex(regex)) => regex.is_match(text),
            None => false,
        }
    }
}

/// A pattern matched at the start of a text only: a region's postcode prefixes (`6[0-2]`, `20[02-5]|569`).
/// Most such patterns denote a few strings; those are matched as that set, a few byte comparisons, and the
/// rest by their regular expression. One is asked of every address, and the set stays in cache where an
/// automaton's search state does not.
#[derive(Debug)]
pub struct PrefixPattern {
    pattern: String,
    /// Built on first use, like [`LazyRegex`].
    matcher: OnceLock<PrefixMatcher>,
}

#[derive(Debug)]
enum PrefixMatcher {
    /// The strings the pattern denotes, when they are finitely many.
    Strings(Vec<Box<[u8]>>),
    /// The pattern anchored at the start; `None` if it does not compile.
    Regex(Option<Regex>),
}

impl PrefixPattern {
    fn new(pattern: &str) -> Self {
        Self { pattern: pattern.to_owned(), matcher: OnceLock::new() }
    }

    /// Whether `text` starts with a string of the pattern.
    pub fn is_match(&self, text: &str) -> bool {
        let matcher = self.matcher.get_or_init(|| match finite_language(&self.pattern) {
            Some(strings) => PrefixMatcher::Strings(strings),
            None => PrefixMatcher::Regex(Regex::new(&format!("^(?:{})", self.pattern)).ok()),
        });
        match matcher {
            PrefixMatcher::Strings(strings) => strings.iter().any(|s| text.as_bytes().starts_with(s)),
            PrefixMatcher::Regex(regex) => regex.as_ref().is_some_and(|re| re.is_match(text)),
        }
    }
}

/// Every string `pattern` matches, when they are few and the pattern asserts nothing about its surroundings
/// (no `^`, `$` or word boundary): the literal extractor of the regex crate's own parser lists them, and says
/// whether the list is exact.
fn finite_language(pattern: &str) -> Option<Vec<Box<[u8]>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    if !hir.properties().look_set().is_empty() {
        return None;
    }
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let literals = seq.literals()?;
    literals.iter().all(|l| l.is_exact()).then(|| literals.iter().map(|l| l.as_bytes().into()).collect())
}

/// One country's postal format, from Google's libaddressinput metadata.
#[derive(Debug)]
pub struct CountryFormat {
    pub code: String,
    pub name: String,
    /// Format string: `%N` name, `%O` organisation, `%A` street, `%C` locality, `%S` region, `%Z` postcode,
    /// `%D` dependent locality, `%X` sorting code, `%n` new line.
    pub fmt: String,
    /// `fmt` parsed.
    pub template: Template,
    /// The Latin-script format (`lfmt`) where the local one uses another script (JP, CN, KR …), parsed.
    pub latin_template: Option<Template>,
    pub require: String,
    pub upper: String,
    /// Anchored postcode pattern.
    pub postcode: Option<LazyRegex>,
    pub postcode_examples: Vec<String>,
    pub regions: Vec<Region>,
    /// Folded spelling → index in `regions`.
    region_index: HashMap<String, usize>,
}

#[derive(Debug)]
pub struct Region {
    /// The form the postal format uses: `CA`, `NSW`, `東京都`.
    pub key: String,
    pub name: Option<String>,
    pub latin_name: Option<String>,
    /// ISO 3166-2 suffix: `CA`, `13`.
    pub iso: Option<String>,
    /// The whole ISO 3166-2 code: `US-CA`, `JP-13`.
    pub iso_code: Option<String>,
    /// Postcode prefixes of this region, anchored at the start.
    pub postcode_prefix: Option<PrefixPattern>,
    /// Every folded spelling that names this region.
    pub spellings: Vec<String>,
}

impl CountryFormat {
    pub fn requires(&self, field: char) -> bool {
        self.require.contains(field)
    }

    pub fn uppercases(&self, field: char) -> bool {
        self.upper.contains(field)
    }

    /// Whether the format string places `field` (its `%X` placeholder).
    pub fn uses(&self, field: char) -> bool {
        self.fmt.split('%').skip(1).any(|placeholder| placeholder.starts_with(field))
    }

    /// The region named by `text` (code, name, Latin name, ISO code or known variant), if any.
    pub fn region(&self, text: &str) -> Option<&Region> {
        let folded = fold_cow(text);
        let index = self.region_index.get(folded.as_ref()).or_else(|| {
            let bare = folded.strip_prefix(self.code.as_str())?.strip_prefix(' ')?;
            self.region_index.get(bare)
        })?;
        self.regions.get(*index)
    }

    /// Regions whose postcode prefixes cover `postcode`.
    pub fn regions_for_postcode(&self, postcode: &str) -> Vec<&Region> {
        self.regions.iter().filter(|r| r.postcode_prefix.as_ref().is_some_and(|re| re.is_match(postcode))).collect()
    }
}

#[derive(Deserialize)]
struct RawFormat {
    name: Option<String>,
    fmt: Option<String>,
    lfmt: Option<String>,
    require: Option<String>,
    upper: Option<String>,
    zip: Option<String>,
    zipex: Option<String>,
    #[serde(default)]
    sub_keys: Vec<String>,
    #[serde(default)]
    sub_names: Vec<String>,
    #[serde(default)]
    sub_lnames: Vec<String>,
    #[serde(default)]
    sub_isoids: Vec<String>,
    #[serde(default)]
    sub_zips: Vec<String>,
    #[serde(default)]
    sub_aliases: Vec<Vec<String>>,
}

fn non_empty(v: Option<&String>) -> Option<String> {
    v.filter(|s| !s.is_empty()).cloned()
}

fn build_format(code: &str, raw: RawFormat, extra_spellings: &HashMap<String, Vec<String>>) -> CountryFormat {
    let regions: Vec<Region> = raw
        .sub_keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let name = non_empty(raw.sub_names.get(i));
            let latin_name = non_empty(raw.sub_lnames.get(i));
            let iso = non_empty(raw.sub_isoids.get(i));
            let postcode_prefix = raw.sub_zips.get(i).filter(|z| !z.is_empty()).map(|z| PrefixPattern::new(z));
            let mut spellings: Vec<String> = [Some(key.clone()), name.clone(), latin_name.clone(), iso.clone()]
                .into_iter()
                .flatten()
                .chain(raw.sub_aliases.get(i).into_iter().flatten().cloned())
                .chain(extra_spellings.get(key).into_iter().flatten().cloned())
                .map(|s| fold(&s))
                .filter(|s| !s.is_empty())
                .collect();
            spellings.sort();
            spellings.dedup();
            let iso_code = iso.as_ref().map(|iso| [code, "-", iso].concat());
            Region { key: key.clone(), name, latin_name, iso, iso_code, postcode_prefix, spellings }
        })
        .collect();
    let region_index = regions
        .iter()
        .enumerate()
        .flat_map(|(i, r): (usize, &Region)| r.spellings.iter().map(move |s| (s.clone(), i)))
        .collect();
    let fmt = raw.fmt.unwrap_or_else(|| "%N%n%O%n%A%n%C".to_owned());
    CountryFormat {
        region_index,
        code: code.to_owned(),
        name: raw.name.unwrap_or_else(|| code.to_owned()),
        template: match code {
            "US" => Template::parse(&fmt).without_commas(),
            _ => Template::parse(&fmt),
        },
        latin_template: raw.lfmt.as_deref().map(Template::parse),
        fmt,
        require: raw.require.unwrap_or_else(|| "AC".to_owned()),
        // libaddressinput's ZZ default uppercases the locality; national practice in DE, AT, NL … writes it as
        // the place is spelt, so only countries that state `upper` get uppercase fields.
        upper: raw.upper.unwrap_or_default(),
        postcode: raw.zip.map(|z| LazyRegex::new(format!("^(?:{z})$"))),
        postcode_examples: raw.zipex.map(|z| z.split(',').map(str::to_owned).collect()).unwrap_or_default(),
        regions,
    }
}

/// Country formats keyed by ISO alpha-2 code.
pub fn formats() -> &'static HashMap<String, CountryFormat> {
    static FORMATS: OnceLock<HashMap<String, CountryFormat>> = OnceLock::new();
    FORMATS.get_or_init(|| {
        let raw: HashMap<String, RawFormat> =
            serde_json::from_str(include_str!(concat!(env!("OUT_DIR"), "/formats.json"))).unwrap_or_default();
        let us_variants = usps().state_variants_by_code();
        raw.into_iter()
            .map(|(code, raw)| {
                let empty = HashMap::default();
                let extra = if code == "US" { &us_variants } else { &empty };
                let format = build_format(&code, raw, extra);
                (code, format)
            })
            .collect()
    })
}

pub fn country(code: &str) -> Option<&'static CountryFormat> {
    formats().get(code)
}

/// ISO 3166-1 alpha-2 code for a code or an English country name (Shopify sends names in `country`).
pub fn country_code(text: &str) -> Option<&'static str> {
    static NAMES: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut names = HashMap::default();
        for row in csv_rows(include_str!("../../../data/countries/iso3166.csv")) {
            let code: &'static str = Box::leak(row[0].clone().into_boxed_str());
            for spelling in [&row[0], &row[1], &row[3], &row[4]] {
                if !spelling.is_empty() {
                    names.insert(fold(spelling), code);
                }
            }
        }
        for (alias, code) in [
            ("UK", "GB"),
            ("GREAT BRITAIN", "GB"),
            ("ENGLAND", "GB"),
            ("USA", "US"),
            ("UNITED STATES OF AMERICA", "US"),
        ] {
            names.insert(alias.to_owned(), code);
        }
        names
    });
    names.get(fold_cow(text).as_ref()).copied()
}

/// The format of the country a code or name denotes: [`country_code`], then [`country`]. Two ASCII letters, as
/// nearly every request sends, are answered from a table of all 676 such codes, built once by those two
/// functions: one step instead of folding and two hash lookups.
pub fn country_of(text: &str) -> Option<&'static CountryFormat> {
    static BY_LETTERS: OnceLock<Vec<Option<&'static CountryFormat>>> = OnceLock::new();
    let by_name = |text: &str| country_code(text).and_then(country);
    match *text.as_bytes() {
        [first, second] if first.is_ascii_alphabetic() && second.is_ascii_alphabetic() => {
            let table = BY_LETTERS.get_or_init(|| {
                (b'A'..=b'Z')
                    .flat_map(|a| (b'A'..=b'Z').map(move |b| [a, b]))
                    .map(|code| std::str::from_utf8(&code).ok().and_then(by_name))
                    .collect()
            });
            let index = |letter: u8| usize::from(letter.to_ascii_uppercase() - b'A');
            table[index(first) * 26 + index(second)]
        }
        _ => by_name(text),
    }
}

pub(crate) fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    reader.records().filter_map(Result::ok).map(|r| r.iter().map(str::to_owned).collect()).collect()
}

/// A postcode's places and centroid. Its text borrows the table's, which lives as long as the process.
///
/// One cache line each, aligned to it: validating an address reads its postcode's row in several steps (the
/// keys while splitting free text, the places and the state while checking them, the centroid last), and ten
/// thousand addresses read ten thousand rows, which are seldom in cache. A row that straddled two lines cost a
/// second miss; hence also the centroid as two numbers rather than an `Option` of a pair, which is 8 bytes larger.
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
pub struct PostcodeInfo {
    /// First-level subdivision from the data (US state, AU state, DE Land, FR département).
    pub admin: &'static str,
    pub places: &'static [&'static str],
    /// Every folded key of every place ([`place_keys`]), for matching typed localities without refolding.
    pub place_keys: &'static [&'static str],
    /// Latitude and longitude of the centroid; NaN where the data has none.
    lat: f64,
    lon: f64,
}

impl PostcodeInfo {
    pub(crate) fn new(
        admin: &'static str,
        places: &'static [&'static str],
        place_keys: &'static [&'static str],
        centroid: Option<(f64, f64)>,
    ) -> Self {
        let (lat, lon) = centroid.unwrap_or((f64::NAN, f64::NAN));
        PostcodeInfo { admin, places, place_keys, lat, lon }
    }

    /// The centroid (latitude, longitude), where the data has one.
    pub fn centroid(&self) -> Option<(f64, f64)> {
        (!self.lat.is_nan() && !self.lon.is_nan()).then_some((self.lat, self.lon))
    }
}

const _: () = assert!(std::mem::size_of::<PostcodeInfo>() == 64);

/// The countries with a postcode table.
pub const POSTCODE_COUNTRIES: [&str; 7] = ["US", "DE", "AT", "AU", "CA", "GB", "FR"];

/// The compact text of a country's postcode table, as `build.rs` writes it: what [`postcodes`] parses, and what
/// the edge worker serves as static assets.
#[cfg(not(feature = "external-postcodes"))]
pub fn postcode_source(country: &str) -> Option<&'static str> {
    macro_rules! source {
        ($cc:literal) => {
            Some(include_str!(concat!(env!("OUT_DIR"), "/postcodes_", $cc, ".txt")))
        };
    }
    match country {
        "US" => source!("US"),
        "DE" => source!("DE"),
        "AT" => source!("AT"),
        "AU" => source!("AU"),
        "CA" => source!("CA"),
        "GB" => source!("GB"),
        "FR" => source!("FR"),
        _ => None,
    }
}

/// Built with `external-postcodes`, no table is compiled in.
#[cfg(feature = "external-postcodes")]
pub fn postcode_source(_country: &str) -> Option<&'static str> {
    None
}

static TABLES: [OnceLock<PostcodeTable>; POSTCODE_COUNTRIES.len()] = [const { OnceLock::new() }; 7];

fn table_slot(country: &str) -> Option<&'static OnceLock<PostcodeTable>> {
    POSTCODE_COUNTRIES.iter().position(|c| *c == country).map(|i| &TABLES[i])
}

/// Postcode table of a country with data; `None` elsewhere.
#[cfg(not(feature = "external-postcodes"))]
pub fn postcodes(country: &str) -> Option<&'static PostcodeTable> {
    let slot = table_slot(country)?;
    Some(slot.get_or_init(|| PostcodeTable::parse(postcode_source(country).unwrap_or_default())))
}

/// Postcode tables given at run time instead of compiled in, for the edge worker: a Worker's script must stay
/// small, so the tables travel as static assets and are installed on first use. The engine asks for a table
/// that is not installed yet, gets `None`, and the table is noted as missing: the caller installs what
/// [`take_missing_postcodes`] names and asks again.
#[cfg(feature = "external-postcodes")]
mod external {
    use std::cell::RefCell;

    use super::{POSTCODE_COUNTRIES, PostcodeTable, table_slot};

    thread_local! {
        static MISSING: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
    }

    pub fn postcodes(country: &str) -> Option<&'static PostcodeTable> {
        let slot = table_slot(country)?;
        let table = slot.get();
        if table.is_none()
            && let Some(code) = POSTCODE_COUNTRIES.iter().find(|c| **c == country)
        {
            MISSING.with(|m| {
                let mut missing = m.borrow_mut();
                if !missing.contains(code) {
                    missing.push(code);
                }
            });
        }
        table
    }

    /// Installs a country's table from its compact text (what `postcode_source` gives on the host). False when
    /// the country has no table or the text is not one.
    pub fn install_postcodes(country: &str, text: &str) -> bool {
        let Some(slot) = table_slot(country) else { return false };
        let table = PostcodeTable::parse(text);
        if table.is_empty() {
            return false;
        }
        let _ = slot.set(table);
        true
    }

    /// The tables asked for and not installed since the last call.
    pub fn take_missing_postcodes() -> Vec<&'static str> {
        MISSING.with(|m| std::mem::take(&mut *m.borrow_mut()))
    }
}

#[cfg(feature = "external-postcodes")]
pub use external::{install_postcodes, postcodes, take_missing_postcodes};

#[derive(Debug, Default)]
pub struct PostcodeTable {
    /// Rows in postcode order; their text sits in one block in the same order, so that a row, its places and
    /// their keys are a few neighbouring cache lines rather than a dozen scattered allocations.
    rows: Vec<PostcodeInfo>,
    codes: Vec<&'static str>,
    by_code: HashMap<&'static str, u32>,
    /// Folded place name → postcodes, for locality checks and postcode inference.
    by_place: HashMap<&'static str, Vec<&'static str>>,
    /// Postcode area (the leading letters: GB `EH`, `SW`) → its places, most frequent first. The most
    /// frequent is the area's post town.
    by_area: HashMap<&'static str, Vec<&'static str>>,
}

/// Where a row's text lies in the table's text block, before the block is final.
struct RowSpans {
    code: (usize, usize),
    admin: (usize, usize),
    /// Range in the list of place and key spans: the places, then their keys.
    places: (usize, usize),
    keys: (usize, usize),
    centroid: Option<(f64, f64)>,
}

impl PostcodeTable {
    /// Reads the columnar table that `build.rs` writes (its `render` documents the layout).
    ///
    /// The text is copied into one block that is never freed: a table is parsed once and kept for the life of
    /// the process (it sits in a static), and borrowing from a `'static` block keeps every row a plain value.
    fn parse(text: &str) -> Self {
        let mut sections = text.split('\x1e');
        let header = sections.next().unwrap_or_default();
        let decimals = header.trim().strip_prefix("lastmile-postcodes 1 ").and_then(|d| d.parse::<i32>().ok());
        let (Some(decimals), Some(keys), Some(admins), Some(places), Some(lats), Some(lons)) =
            (decimals, sections.next(), sections.next(), sections.next(), sections.next(), sections.next())
        else {
            return PostcodeTable::default();
        };
        let scale = 10f64.powi(decimals);
        let mut block = String::with_capacity(text.len() * 2);
        let mut words: Vec<(usize, usize)> = Vec::new();
        let mut rows: Vec<RowSpans> = Vec::new();
        let mut code = String::new();
        let (mut lat, mut lon) = (0i64, 0i64);
        // Appends to the block and gives the span written.
        let push = |block: &mut String, text: &str| {
            let start = block.len();
            block.push_str(text);
            (start, block.len())
        };
        let columns = keys.lines().zip(admins.lines()).zip(places.lines()).zip(lats.lines().zip(lons.lines()));
        for (((key, admin), places), (lat_delta, lon_delta)) in columns {
            let shared = key.get(..1).and_then(|d| d.parse::<usize>().ok()).unwrap_or(0);
            code.truncate(shared);
            code.push_str(key.get(1..).unwrap_or_default());
            // Exact: both are integers below 2^53, so the division rounds as parsing the decimal would.
            let centroid = match (lat_delta.parse::<i64>(), lon_delta.parse::<i64>()) {
                (Ok(dlat), Ok(dlon)) => {
                    (lat, lon) = (lat + dlat, lon + dlon);
                    Some((lat as f64 / scale, lon as f64 / scale))
                }
                _ => None,
            };
            let code_span = push(&mut block, &code);
            let admin_span = push(&mut block, admin);
            let first_place = words.len();
            for place in places.split('|').filter(|p| !p.is_empty()) {
                words.push(push(&mut block, place));
            }
            let first_key = words.len();
            for place in first_place..first_key {
                let (start, end) = words[place];
                let folded = fold(&block[start..end]);
                for key in folded_place_keys(&folded) {
                    words.push(push(&mut block, &key));
                }
            }
            rows.push(RowSpans {
                code: code_span,
                admin: admin_span,
                places: (first_place, first_key),
                keys: (first_key, words.len()),
                centroid,
            });
        }
        let block: &'static str = Box::leak(block.into_boxed_str());
        let words: &'static [&'static str] =
            Box::leak(words.iter().map(|&(start, end)| &block[start..end]).collect::<Box<[_]>>());
        let mut table = PostcodeTable::default();
        for row in &rows {
            let code = &block[row.code.0..row.code.1];
            let info = PostcodeInfo::new(
                &block[row.admin.0..row.admin.1],
                &words[row.places.0..row.places.1],
                &words[row.keys.0..row.keys.1],
                row.centroid,
            );
            table.insert(code, info);
        }
        for places in table.by_area.values_mut() {
            let mut counts: HashMap<&str, usize> = HashMap::default();
            for p in places.iter() {
                *counts.entry(p).or_default() += 1;
            }
            let mut ranked: Vec<(&'static str, usize)> = counts.into_iter().collect();
            ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            *places = ranked.into_iter().map(|(p, _)| p).collect();
        }
        table
    }

    fn insert(&mut self, code: &'static str, info: PostcodeInfo) {
        for key in info.place_keys {
            self.by_place.entry(key).or_default().push(code);
        }
        let area_len = code.bytes().take_while(u8::is_ascii_alphabetic).count();
        if area_len > 0 {
            self.by_area.entry(&code[..area_len]).or_default().extend(info.places.iter().copied());
        }
        match self.by_code.get(code) {
            // A code listed twice: the later row wins, as it always has.
            Some(&i) => self.rows[i as usize] = info,
            None => {
                self.by_code.insert(code, self.rows.len() as u32);
                self.rows.push(info);
                self.codes.push(code);
            }
        }
    }

    /// Places of a postcode area, most frequent first (GB `EH` → Edinburgh, …).
    pub fn area_places(&self, area: &str) -> &[&'static str] {
        self.by_area.get(area).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn get(&self, postcode: &str) -> Option<&PostcodeInfo> {
        self.by_code.get(postcode).map(|&i| &self.rows[i as usize])
    }

    pub fn postcodes_of_place(&self, folded_place: &str) -> &[&'static str] {
        self.by_place.get(folded_place).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Every postcode and its row, in postcode order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &PostcodeInfo)> {
        self.codes.iter().copied().zip(&self.rows)
    }
}

/// Folded names under which a place is known: "Paris 8e Arrondissement" is also "PARIS",
/// "Dresden Friedrichstadt" is also "DRESDEN" only through its own row, so only arrondissements are split.
pub fn place_keys(place: &str) -> Vec<String> {
    folded_place_keys(&fold(place)).map(Cow::into_owned).collect()
}

/// [`place_keys`] of a place folded already, borrowing all but a canonical spelling: the place itself first.
/// The other keys are worked out only when asked for: a search that the place itself answers needs none.
pub fn folded_place_keys(folded: &str) -> impl Iterator<Item = Cow<'_, str>> {
    let canonical = std::iter::once_with(move || match super::us::canonical_place_cow(folded) {
        Cow::Owned(canonical) => Some(Cow::Owned(canonical)),
        Cow::Borrowed(_) => None,
    });
    // A search for the space first: far cheaper than a substring search for a word most names lack.
    let base = std::iter::once_with(move || {
        folded
            .match_indices(' ')
            .map(|(i, _)| i)
            .find(|&i| folded[i..].starts_with(" ARRONDISSEMENT"))
            .and_then(|i| folded[..i].rsplit_once(' '))
            .map(|(base, _)| Cow::Borrowed(base))
    });
    std::iter::once(Cow::Borrowed(folded)).chain(canonical.flatten()).chain(base.flatten())
}

/// The principal post town of a GB postcode area (`OX` → OXFORD, `NW` → LONDON):
/// `shared/data/postcodes/GB_post_towns.csv`.
pub fn gb_post_town(area: &str) -> Option<&'static str> {
    static TOWNS: OnceLock<HashMap<String, String>> = OnceLock::new();
    TOWNS
        .get_or_init(|| {
            csv_rows(include_str!("../../../data/postcodes/GB_post_towns.csv"))
                .into_iter()
                .filter(|r| r.len() >= 2)
                .map(|r| (r[0].clone(), r[1].clone()))
                .collect()
        })
        .get(area)
        .map(String::as_str)
}

/// USPS Publication 28 tables.
#[derive(Debug, Default)]
pub struct Usps {
    /// Any spelling of a street suffix → its Pub 28 abbreviation (AVENUE, AV, AVEN → AVE).
    pub suffixes: WordMap<String>,
    /// Directional spellings → abbreviation (NORTHWEST → NW).
    pub directionals: WordMap<String>,
    /// Secondary unit spellings → (abbreviation, needs a number).
    pub units: WordMap<(String, bool)>,
    /// Highway pre-types that are not Pub 28 suffixes (COUNTY ROAD → COUNTY RD).
    pub highway_pretypes: Vec<(Vec<String>, String)>,
    /// The words the pre-types start with (COUNTY, STATE, US): a street starting with none has none of them.
    pub highway_pretype_openings: Vec<String>,
    /// State and territory names and variants → USPS code.
    pub states: WordMap<String>,
}

impl Usps {
    fn state_variants_by_code(&self) -> HashMap<String, Vec<String>> {
        let mut by_code: HashMap<String, Vec<String>> = HashMap::default();
        for (variant, code) in self.states.iter() {
            by_code.entry(code.clone()).or_default().push(variant.to_owned());
        }
        by_code
    }
}

pub fn usps() -> &'static Usps {
    static USPS: OnceLock<Usps> = OnceLock::new();
    USPS.get_or_init(|| {
        let mut usps = Usps::default();
        for row in csv_rows(include_str!("../../../data/usps-pub28/street_suffixes.csv")) {
            usps.suffixes.insert(&fold(&row[1]), row[2].clone());
            usps.suffixes.insert(&fold(&row[0]), row[2].clone());
            usps.suffixes.insert(&fold(&row[2]), row[2].clone());
        }
        for row in csv_rows(include_str!("../../../data/usps-pub28/directionals.csv")) {
            usps.directionals.insert(&fold(&row[0]), row[1].clone());
            usps.directionals.insert(&row[0], row[1].clone());
            usps.directionals.insert(&row[1], row[1].clone());
        }
        for row in csv_rows(include_str!("../../../data/usps-pub28/secondary_units.csv")) {
            let needs_number = row[2] == "Y";
            usps.units.insert(&row[0], (row[1].clone(), needs_number));
            usps.units.insert(&row[1], (row[1].clone(), needs_number));
        }
        for row in csv_rows(include_str!("../../../data/usps-pub28/highway_pretypes_non_pub28.csv")) {
            usps.highway_pretypes.push((row[0].split(' ').map(str::to_owned).collect(), row[1].clone()));
        }
        // Longest variants first so COUNTY HIGHWAY wins over a shorter prefix.
        usps.highway_pretypes.sort_by_key(|(words, _)| std::cmp::Reverse(words.len()));
        usps.highway_pretype_openings =
            usps.highway_pretypes.iter().filter_map(|(words, _)| words.first().cloned()).collect();
        usps.highway_pretype_openings.sort();
        usps.highway_pretype_openings.dedup();
        for row in csv_rows(include_str!("../../../data/usps-pub28/states.csv")) {
            usps.states.insert(&fold(&row[0]), row[1].clone());
            usps.states.insert(&row[1], row[1].clone());
        }
        for row in csv_rows(include_str!("../../../data/usps-pub28/state_name_variants.csv")) {
            usps.states.insert(&fold(&row[0]), row[1].clone());
        }
        usps
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row gives back the centroid it was built with, or none, and the table's rows fill one cache line each.
    #[test]
    fn a_row_keeps_its_centroid_in_one_cache_line() {
        assert_eq!(PostcodeInfo::new("IL", &[], &[], Some((39.8, -89.6))).centroid(), Some((39.8, -89.6)));
        assert_eq!(PostcodeInfo::new("IL", &[], &[], None).centroid(), None);
        let Some(table) = postcodes("US") else { return };
        assert!(table.iter().all(|(_, row)| std::ptr::from_ref(row).addr() % 64 == 0));
        assert!(table.iter().any(|(_, row)| row.centroid().is_some()));
    }

    /// Every region of every country is found again by its key, its name and its Latin name.
    #[test]
    fn every_region_resolves_by_key_name_and_latin_name() {
        let mut failures = Vec::new();
        for (code, country) in formats() {
            for region in &country.regions {
                for spelling in
                    [Some(&region.key), region.name.as_ref(), region.latin_name.as_ref()].into_iter().flatten()
                {
                    match country.region(spelling) {
                        Some(found) if found.key == region.key => {}
                        other => failures.push(format!(
                            "{code} '{spelling}' → {:?}, expected {}",
                            other.map(|r| &r.key),
                            region.key
                        )),
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    }

    /// A region's postcode prefixes answer as the anchored regular expression does, on short strings of
    /// digits and letters, the country's examples and every postcode of its table.
    #[test]
    fn prefix_patterns_match_as_their_regular_expressions() {
        let alphabet: Vec<char> = ('0'..='9').chain('A'..='Z').collect();
        let mut short: Vec<String> = alphabet.iter().map(char::to_string).collect();
        short.extend(alphabet.iter().flat_map(|a| alphabet.iter().map(move |b| format!("{a}{b}"))));
        short.extend((0..1000).map(|n| format!("{n:03}")));
        let (mut as_strings, mut failures) = (0, Vec::new());
        for (code, country) in formats() {
            let mut probes = short.clone();
            probes.extend(country.postcode_examples.iter().map(|e| crate::address::postcode::compact(e)));
            probes.extend(postcodes(code).into_iter().flat_map(|t| t.iter().map(|(c, _)| c.replace(' ', ""))));
            for region in &country.regions {
                let Some(prefix) = &region.postcode_prefix else { continue };
                let regex = Regex::new(&format!("^(?:{})", prefix.pattern)).unwrap();
                for probe in &probes {
                    if prefix.is_match(probe) != regex.is_match(probe) {
                        failures.push(format!("{code} {} '{}' on {probe}", region.key, prefix.pattern));
                    }
                }
                as_strings += usize::from(matches!(prefix.matcher.get(), Some(PrefixMatcher::Strings(_))));
            }
        }
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
        let illinois = country("US").and_then(|us| us.region("IL")).and_then(|r| r.postcode_prefix.as_ref()).unwrap();
        assert!(illinois.is_match("62701") && !illinois.is_match("63101"));
        let Some(PrefixMatcher::Strings(strings)) = illinois.matcher.get() else { panic!("6[0-2] is three strings") };
        assert_eq!(strings, &[b"60".as_slice().into(), b"61".as_slice().into(), b"62".as_slice().into()]);
        // Most patterns are short alternations of digit ranges.
        assert!(as_strings > 100, "only {as_strings} patterns matched as strings");
    }

    /// A country's postcode pattern answers as its regular expression does: on its examples, every postcode
    /// of its table, and each of those damaged (a character dropped, one added, lowercase, Arabic-Indic
    /// digits). Most patterns are built into DFAs; those with a word boundary are left to the regex engine.
    #[test]
    fn postcode_patterns_match_as_their_regular_expressions() {
        let (mut checked, mut failures, mut searched_by_regex) = (0, Vec::new(), Vec::new());
        for (code, country) in formats() {
            let Some(pattern) = &country.postcode else { continue };
            let regex = Regex::new(&pattern.pattern).unwrap();
            let mut probes: Vec<String> = country.postcode_examples.clone();
            probes.extend(postcodes(code).into_iter().flat_map(|t| t.iter().map(|(c, _)| c.to_owned())));
            let damaged = |p: &String| {
                let digits = p.chars().map(|c| c.to_digit(10).and_then(|d| char::from_u32(0x660 + d)).unwrap_or(c));
                [p[1..].to_owned(), format!("{p}0"), format!("0{p}"), p.to_lowercase(), digits.collect(), String::new()]
            };
            let damaged: Vec<String> =
                probes.iter().filter(|p| p.is_ascii() && !p.is_empty()).flat_map(damaged).collect();
            probes.extend(damaged);
            for probe in &probes {
                checked += 1;
                if pattern.is_match(probe) != regex.is_match(probe) {
                    failures.push(format!("{code} '{}' on '{probe}'", pattern.pattern));
                }
            }
            if !matches!(pattern.matcher(), Some(Matcher::Dfa(_))) {
                assert!(pattern.pattern.contains(r"\b"), "{code}: '{}' is not a DFA", pattern.pattern);
                searched_by_regex.push(code.as_str());
            }
        }
        for code in ["US", "GB", "CA", "DE", "FR", "AU", "JP", "AT", "NL"] {
            assert!(!searched_by_regex.contains(&code), "{code}'s postcode pattern is not a DFA");
        }
        assert!(searched_by_regex.len() < 10, "not DFAs: {searched_by_regex:?}");
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
        assert!(checked > 100_000, "only {checked} postcodes checked");
        let us = country("US").and_then(|us| us.postcode.as_ref()).unwrap();
        assert!(us.is_match("62701") && us.is_match("62701-1234") && !us.is_match("6270") && !us.is_match("62701 "));
    }

    #[test]
    fn english_and_local_country_names_resolve() {
        assert_eq!(country_code("United States"), Some("US"));
        assert_eq!(country_code("germany"), Some("DE"));
        assert_eq!(country_code("UK"), Some("GB"));
        assert_eq!(country_code("fr"), Some("FR"));
        assert_eq!(country_code("Atlantis"), None);
    }

    /// The table of two-letter codes answers as the lookup by name does, in either case and for codes that
    /// are no country.
    #[test]
    fn two_letter_codes_resolve_as_names_do() {
        let mut known = 0;
        for a in (b'A'..=b'Z').chain(b'a'..=b'z') {
            for b in (b'A'..=b'Z').chain(b'a'..=b'z') {
                let code = String::from_utf8(vec![a, b]).unwrap();
                let by_name = country_code(&code).and_then(country);
                assert!(
                    match (country_of(&code), by_name) {
                        (Some(x), Some(y)) => std::ptr::eq(x, y),
                        (x, y) => x.is_none() && y.is_none(),
                    },
                    "{code}"
                );
                known += usize::from(by_name.is_some());
            }
        }
        assert!(known > 4 * 200, "only {known} codes known");
        assert_eq!(country_of("de").map(|c| c.code.as_str()), Some("DE"));
        assert_eq!(country_of("United Kingdom").map(|c| c.code.as_str()), Some("GB"));
        assert!(country_of("ZZ").is_none() && country_of("Z").is_none() && country_of("").is_none());
    }
}
