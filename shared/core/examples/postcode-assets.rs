//! Writes the postcode tables as the edge worker's static assets, `DIR/postcodes/{country}.txt`: the worker is
//! built without them (feature `external-postcodes`) and installs each on first use.
//!
//!     cargo run -p lastmile-core --example postcode-assets -- edge-worker/assets

use lastmile_core::address::refdata::{POSTCODE_COUNTRIES, postcode_source};

fn main() -> std::io::Result<()> {
    let Some(dir) = std::env::args_os().nth(1).map(std::path::PathBuf::from) else {
        eprintln!("usage: postcode-assets DIR");
        std::process::exit(2);
    };
    let folder = dir.join("postcodes");
    std::fs::create_dir_all(&folder)?;
    for country in POSTCODE_COUNTRIES {
        let Some(text) = postcode_source(country) else {
            eprintln!("this build has no postcode tables compiled in (feature external-postcodes)");
            std::process::exit(1);
        };
        std::fs::write(folder.join(format!("{country}.txt")), text)?;
    }
    Ok(())
}
