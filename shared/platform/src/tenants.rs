//! Tenants and their API keys. A key is shown once when it is created; only its SHA-256 is stored. Keys are
//! 256-bit random values, so a plain hash is enough: there is no password to brute-force.
//!
//! Locally the registry lives in the data directory (`tenants/<id>.toml`, `keys.json`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{self, ConfigError, TenantConfig};

pub const KEY_PREFIX: &str = "lmk_";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Public identifier of the key (safe to log).
    pub id: String,
    pub tenant: String,
    pub name: String,
    /// Hex SHA-256 of the secret key.
    pub hash: String,
    pub created_at: String,
    #[serde(default)]
    pub revoked: bool,
    /// What the key opens: the JSON API, or only the tenant's Shopify CarrierService callback URL.
    #[serde(default)]
    pub scope: KeyScope,
}

/// A key opens one kind of door: a CarrierService token travels in a URL that Shopify stores, so it must not
/// also open the API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    #[default]
    Api,
    CarrierService,
}

/// The tenant a request resolved to.
#[derive(Debug, Clone)]
pub struct TenantContext {
    pub tenant: Arc<TenantConfig>,
    pub key_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot use {path}: {message}")]
    Store { path: PathBuf, message: String },
    #[error("no tenant '{0}'")]
    UnknownTenant(String),
    #[error("tenant id '{0}' is invalid: use 1-64 lowercase letters, digits, '-' or '_'")]
    InvalidId(String),
    #[error("cannot draw random bytes for a key: {0}")]
    Random(String),
}

#[derive(Default)]
struct State {
    tenants: HashMap<String, Arc<TenantConfig>>,
    keys: Vec<KeyRecord>,
}

/// Tenants and keys of one data directory.
pub struct TenantRegistry {
    dir: PathBuf,
    state: RwLock<State>,
}

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

pub fn hash_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn random_hex(bytes: usize) -> Result<String, TenantError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| TenantError::Random(e.to_string()))?;
    Ok(hex::encode(buf))
}

impl TenantRegistry {
    /// Opens the registry in `data_dir`, reading every tenant file and the key list.
    pub fn open(data_dir: &Path) -> Result<Self, TenantError> {
        let dir = data_dir.to_owned();
        let mut state = State::default();
        let tenants_dir = dir.join("tenants");
        if tenants_dir.exists() {
            let entries = std::fs::read_dir(&tenants_dir)
                .map_err(|e| TenantError::Store { path: tenants_dir.clone(), message: e.to_string() })?;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "toml") {
                    let tenant: TenantConfig = config::load(&path)?;
                    tenant
                        .routing
                        .check()
                        .map_err(|message| config::ConfigError::Parse { path: path.clone(), message })?;
                    state.tenants.insert(tenant.id.clone(), Arc::new(tenant));
                }
            }
        }
        let keys_path = dir.join("keys.json");
        if keys_path.exists() {
            let text = std::fs::read_to_string(&keys_path)
                .map_err(|e| TenantError::Store { path: keys_path.clone(), message: e.to_string() })?;
            state.keys = serde_json::from_str(&text)
                .map_err(|e| TenantError::Store { path: keys_path.clone(), message: e.to_string() })?;
        }
        Ok(Self { dir, state: RwLock::new(state) })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn tenant(&self, id: &str) -> Option<Arc<TenantConfig>> {
        self.read().tenants.get(id).cloned()
    }

    /// The tenant whose Shopify shop is `domain`.
    pub fn tenant_by_shop(&self, domain: &str) -> Option<Arc<TenantConfig>> {
        self.tenants().into_iter().find(|t| t.shopify_domain.as_deref().is_some_and(|d| d.eq_ignore_ascii_case(domain)))
    }

    pub fn tenants(&self) -> Vec<Arc<TenantConfig>> {
        let mut all: Vec<_> = self.read().tenants.values().cloned().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// Creates (or replaces) a tenant's configuration file.
    pub fn put_tenant(&self, tenant: TenantConfig) -> Result<(), TenantError> {
        if !valid_id(&tenant.id) {
            return Err(TenantError::InvalidId(tenant.id));
        }
        let path = self.dir.join("tenants").join(format!("{}.toml", tenant.id));
        tenant.routing.check().map_err(|message| config::ConfigError::Parse { path, message })?;
        config::save(&self.dir.join("tenants").join(format!("{}.toml", tenant.id)), &tenant)?;
        self.write().tenants.insert(tenant.id.clone(), Arc::new(tenant));
        Ok(())
    }

    /// Creates an API key for `tenant` and returns its record and the secret, which is never stored.
    pub fn create_key(&self, tenant: &str, name: &str, created_at: &str) -> Result<(KeyRecord, String), TenantError> {
        self.create_scoped_key(tenant, name, created_at, KeyScope::Api)
    }

    /// Creates a key of `scope` for `tenant`; the secret is returned once and never stored.
    pub fn create_scoped_key(
        &self,
        tenant: &str,
        name: &str,
        created_at: &str,
        scope: KeyScope,
    ) -> Result<(KeyRecord, String), TenantError> {
        if self.tenant(tenant).is_none() {
            return Err(TenantError::UnknownTenant(tenant.to_owned()));
        }
        let secret = format!("{KEY_PREFIX}{}", random_hex(32)?);
        let record = KeyRecord {
            id: format!("key_{}", random_hex(6)?),
            tenant: tenant.to_owned(),
            name: name.to_owned(),
            hash: hash_key(&secret),
            created_at: created_at.to_owned(),
            revoked: false,
            scope,
        };
        let mut state = self.write();
        state.keys.push(record.clone());
        self.persist_keys(&state.keys)?;
        Ok((record, secret))
    }

    pub fn keys(&self, tenant: &str) -> Vec<KeyRecord> {
        self.read().keys.iter().filter(|k| k.tenant == tenant).cloned().collect()
    }

    fn persist_keys(&self, keys: &[KeyRecord]) -> Result<(), TenantError> {
        let path = self.dir.join("keys.json");
        let json = serde_json::to_vec_pretty(keys)
            .map_err(|e| TenantError::Store { path: path.clone(), message: e.to_string() })?;
        config::write_atomically(&path, &json).map_err(|e| TenantError::Store { path, message: e.to_string() })
    }

    /// The tenant of an API key, if the key is known, not revoked, and its tenant exists.
    pub fn resolve(&self, secret: &str) -> Option<TenantContext> {
        self.resolve_scoped(secret, KeyScope::Api)
    }

    /// The tenant of a key of `scope`, if the key is known, not revoked, and its tenant exists.
    pub fn resolve_scoped(&self, secret: &str, scope: KeyScope) -> Option<TenantContext> {
        if !secret.starts_with(KEY_PREFIX) {
            return None;
        }
        let hash = hash_key(secret);
        let state = self.read();
        let key = state
            .keys
            .iter()
            .find(|k| !k.revoked && k.scope == scope && constant_time_eq(k.hash.as_bytes(), hash.as_bytes()))?;
        let tenant = state.tenants.get(&key.tenant)?.clone();
        Some(TenantContext { tenant, key_id: key.id.clone() })
    }
}

/// Compares without an early exit, so response time does not reveal how much of a hash matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lastmile-tenants-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_created_key_resolves_to_its_tenant_and_is_stored_only_hashed() {
        let dir = temp_dir("resolve");
        let registry = TenantRegistry::open(&dir).expect("opens");
        registry.put_tenant(TenantConfig::sample("acme")).expect("tenant");
        let (record, secret) = registry.create_key("acme", "ci", "2026-11-25T00:00:00Z").expect("key");
        assert_eq!(registry.resolve(&secret).map(|c| c.tenant.id.clone()).as_deref(), Some("acme"));
        let stored = std::fs::read_to_string(dir.join("keys.json")).expect("keys file");
        assert!(!stored.contains(&secret));
        assert!(stored.contains(&record.hash));
        // A second process sees the same key.
        let reopened = TenantRegistry::open(&dir).expect("reopens");
        assert!(reopened.resolve(&secret).is_some());
        assert!(reopened.resolve("lmk_not-a-key").is_none());
        let (_, token) = registry
            .create_scoped_key("acme", "shopify", "2026-11-25T00:00:00Z", KeyScope::CarrierService)
            .expect("key");
        assert!(registry.resolve(&token).is_none(), "a carrier-service token does not open the API");
        assert!(registry.resolve_scoped(&token, KeyScope::CarrierService).is_some());
        assert!(registry.resolve_scoped(&secret, KeyScope::CarrierService).is_none(), "nor an API key the callback");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn keys_of_one_tenant_do_not_open_another() {
        let dir = temp_dir("isolation");
        let registry = TenantRegistry::open(&dir).expect("opens");
        registry.put_tenant(TenantConfig::sample("a")).expect("tenant a");
        registry.put_tenant(TenantConfig::sample("b")).expect("tenant b");
        let (_, key_a) = registry.create_key("a", "k", "t").expect("key");
        assert_eq!(registry.resolve(&key_a).map(|c| c.tenant.id.clone()).as_deref(), Some("a"));
        assert!(registry.create_key("missing", "k", "t").is_err());
        assert!(registry.put_tenant(TenantConfig::sample("Bad Id")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
