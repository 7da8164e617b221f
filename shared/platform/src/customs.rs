//! The customs rules a process answers with: the compiled-in files of `shared/data/customs`, overlaid by a
//! deployment's own folder. A file there with the same relative path replaces the shipped one (an edited
//! `vat_rates.csv`, the seller's dated `fx_sample.csv`), a new `fx*.csv` adds rates, and `seller_tariff.csv` is
//! the seller's own tariff, consulted before the shipped sample.

use std::path::Path;

use lastmile_core::duty::rules::{Rules, RulesError, builtin_files};

#[derive(Debug, thiserror::Error)]
pub enum CustomsError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(transparent)]
    Rules(#[from] RulesError),
}

/// The seller's own tariff file inside a customs folder.
pub const SELLER_TARIFF: &str = "seller_tariff.csv";

/// Reads `dir` over the shipped rules; a missing folder means the shipped rules alone.
pub fn load_rules(dir: &Path) -> Result<Rules, CustomsError> {
    let mut files = builtin_files();
    let mut seller_tariff = None;
    if dir.is_dir() {
        for (relative, text) in read_folder(dir)? {
            if relative == SELLER_TARIFF {
                seller_tariff = Some(text);
            } else if let Some(slot) = files.iter_mut().find(|(name, _)| *name == relative) {
                slot.1 = text;
            } else {
                files.push((relative, text));
            }
        }
    }
    let borrowed: Vec<(String, &str)> = files.iter().map(|(name, text)| (name.clone(), text.as_str())).collect();
    let rules = Rules::from_files(&borrowed)?;
    Ok(match seller_tariff {
        Some(text) => rules.with_seller_tariff(&text)?,
        None => rules,
    })
}

/// `.toml` and `.csv` files of `dir` and of its subfolders one level down, by relative path.
fn read_folder(dir: &Path) -> Result<Vec<(String, String)>, CustomsError> {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CustomsError + '_ {
        move |source| CustomsError::Io { path: path.display().to_string(), source }
    }
    let mut out = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((folder, prefix)) = pending.pop() {
        for entry in std::fs::read_dir(&folder).map_err(io(&folder))? {
            let path = entry.map_err(io(&folder))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            if path.is_dir() && prefix.is_empty() {
                pending.push((path.clone(), format!("{name}/")));
            } else if name.ends_with(".toml") || name.ends_with(".csv") {
                let text = std::fs::read_to_string(&path).map_err(io(&path))?;
                out.push((format!("{prefix}{name}"), text));
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_overrides_and_extends_the_shipped_rules() {
        let dir = std::env::temp_dir().join(format!("lastmile-customs-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("territories")).unwrap();
        let eu = builtin_files().into_iter().find(|(n, _)| n == "territories/EU.toml").unwrap().1;
        std::fs::write(dir.join("territories/EU.toml"), eu.replace("amount = \"3.00\"", "amount = \"4.00\"")).unwrap();
        std::fs::write(
            dir.join(SELLER_TARIFF),
            "territory,hs,description,program,kind,rate,currency,effective_from,effective_to,source,confidence,note\n\
             EU,97019900,Paintings,,ad_valorem,0,,,,seller,certain,\n",
        )
        .unwrap();
        let rules = load_rules(&dir).unwrap();
        let eu = rules.territory("DE").unwrap();
        assert_eq!(eu.flat_duty[0].amount.to_string(), "4.00");
        let date = "2026-11-25".parse().unwrap();
        assert!(rules.tariff_row("EU", "97019900", None, date).is_some());
        assert!(load_rules(&dir.join("missing")).unwrap().tariff_row("EU", "97019900", None, date).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
