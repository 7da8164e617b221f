//! The registry in a data directory: one TOML file per tenant (`tenants/<id>.toml`) and the key list
//! (`keys.json`), each written atomically.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::{KeyRecord, Snapshot, TenantError};
use crate::config::{self, ConfigError, TenantConfig};

pub fn tenant_path(dir: &Path, id: &str) -> PathBuf {
    dir.join("tenants").join(format!("{id}.toml"))
}

fn keys_path(dir: &Path) -> PathBuf {
    dir.join("keys.json")
}

/// Every tenant file and the key list of `dir` (a missing folder or file is an empty one), with the key file's
/// modification time.
pub fn read(dir: &Path) -> Result<(Snapshot, Option<SystemTime>), TenantError> {
    let mut snapshot = Snapshot::default();
    let tenants_dir = dir.join("tenants");
    if tenants_dir.exists() {
        let entries = std::fs::read_dir(&tenants_dir)
            .map_err(|e| TenantError::Store { path: tenants_dir.clone(), message: e.to_string() })?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "toml") {
                let tenant: TenantConfig = config::load(&path)?;
                tenant.check().map_err(|message| ConfigError::Parse { path: path.clone(), message })?;
                snapshot.tenants.insert(tenant.id.clone(), Arc::new(tenant));
            }
        }
    }
    let mut modified = None;
    if keys_path(dir).exists() {
        snapshot.keys = read_keys(dir)?;
        modified = keys_modified(dir);
    }
    Ok((snapshot, modified))
}

pub fn read_keys(dir: &Path) -> Result<Vec<KeyRecord>, TenantError> {
    let path = keys_path(dir);
    let store = |e: String| TenantError::Store { path: path.clone(), message: e };
    let text = std::fs::read_to_string(&path).map_err(|e| store(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| store(e.to_string()))
}

pub fn write_keys(dir: &Path, keys: &[KeyRecord]) -> Result<(), TenantError> {
    let path = keys_path(dir);
    let store = |e: String| TenantError::Store { path: path.clone(), message: e };
    let json = serde_json::to_vec_pretty(keys).map_err(|e| store(e.to_string()))?;
    config::write_atomically(&path, &json).map_err(|e| store(e.to_string()))
}

pub fn keys_modified(dir: &Path) -> Option<SystemTime> {
    std::fs::metadata(keys_path(dir)).and_then(|m| m.modified()).ok()
}
