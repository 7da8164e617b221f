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
    /// When a request last used it (to the minute: a busy key is not rewritten on every request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
}

/// How often a key's last use is written down at most.
const LAST_USED_RESOLUTION_SECONDS: i64 = 60;

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
    #[error("no key '{0}'")]
    UnknownKey(String),
    #[error("tenant id '{0}' is invalid: use 1-64 lowercase letters, digits, '-' or '_'")]
    InvalidId(String),
    #[error("cannot draw random bytes for a key: {0}")]
    Random(String),
}

#[derive(Default)]
struct State {
    tenants: HashMap<String, Arc<TenantConfig>>,
    keys: Vec<KeyRecord>,
    /// The key file's modification time when it was last read or written.
    keys_modified: Option<std::time::SystemTime>,
}

/// Tenants and keys of one data directory.
pub struct TenantRegistry {
    dir: PathBuf,
    state: RwLock<State>,
    limiter: crate::ratelimit::RateLimiter,
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
                    tenant.check().map_err(|message| config::ConfigError::Parse { path: path.clone(), message })?;
                    state.tenants.insert(tenant.id.clone(), Arc::new(tenant));
                }
            }
        }
        let keys_path = dir.join("keys.json");
        if keys_path.exists() {
            state.keys = read_keys(&keys_path)?;
            state.keys_modified = modified(&keys_path);
        }
        Ok(Self { dir, state: RwLock::new(state), limiter: Default::default() })
    }

    /// Rereads the key list when another process (`lastmile tenant key …`) changed it, so a revoked key stops
    /// working at once in a running server.
    fn refresh_keys(&self) {
        let path = self.dir.join("keys.json");
        let on_disk = modified(&path);
        if on_disk.is_none() || on_disk == self.read().keys_modified {
            return;
        }
        match read_keys(&path) {
            Ok(keys) => {
                let mut state = self.write();
                state.keys = keys;
                state.keys_modified = on_disk;
            }
            Err(e) => tracing::warn!(error = %e, "key list not reread; keeping the one in memory"),
        }
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
        tenant.check().map_err(|message| config::ConfigError::Parse { path, message })?;
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
            last_used_at: None,
        };
        let mut state = self.write();
        state.keys.push(record.clone());
        self.persist_keys(&mut state)?;
        Ok((record, secret))
    }

    /// Revokes a key by its id; revoking a revoked key changes nothing. Answers the key's record.
    pub fn revoke_key(&self, key_id: &str) -> Result<KeyRecord, TenantError> {
        let mut state = self.write();
        let key =
            state.keys.iter_mut().find(|k| k.id == key_id).ok_or_else(|| TenantError::UnknownKey(key_id.to_owned()))?;
        let changed = !key.revoked;
        key.revoked = true;
        let record = key.clone();
        if changed {
            self.persist_keys(&mut state)?;
        }
        Ok(record)
    }

    /// Takes one request from the tenant's rate limit, or says how long until one is free.
    pub fn admit(&self, tenant: &TenantConfig) -> Result<(), std::time::Duration> {
        self.limiter.admit(&tenant.id, tenant.limits)
    }

    pub fn keys(&self, tenant: &str) -> Vec<KeyRecord> {
        self.read().keys.iter().filter(|k| k.tenant == tenant).cloned().collect()
    }

    fn persist_keys(&self, state: &mut State) -> Result<(), TenantError> {
        let path = self.dir.join("keys.json");
        let json = serde_json::to_vec_pretty(&state.keys)
            .map_err(|e| TenantError::Store { path: path.clone(), message: e.to_string() })?;
        config::write_atomically(&path, &json)
            .map_err(|e| TenantError::Store { path: path.clone(), message: e.to_string() })?;
        state.keys_modified = modified(&path);
        Ok(())
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
        self.refresh_keys();
        let hash = hash_key(secret);
        let (context, stale) = {
            let state = self.read();
            let key = state
                .keys
                .iter()
                .find(|k| !k.revoked && k.scope == scope && constant_time_eq(k.hash.as_bytes(), hash.as_bytes()))?;
            let tenant = state.tenants.get(&key.tenant)?.clone();
            (TenantContext { tenant, key_id: key.id.clone() }, last_use_is_stale(key.last_used_at.as_deref()))
        };
        if stale {
            self.note_use(&context.key_id);
        }
        Some(context)
    }

    /// Writes down a key's last use; a failure to write only loses that note.
    fn note_use(&self, key_id: &str) {
        let now = jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or_else(|_| jiff::Timestamp::now());
        let mut state = self.write();
        if let Some(key) = state.keys.iter_mut().find(|k| k.id == key_id) {
            key.last_used_at = Some(now.to_string());
        }
        if let Err(e) = self.persist_keys(&mut state) {
            tracing::warn!(error = %e, "key use not recorded");
        }
    }
}

fn read_keys(path: &Path) -> Result<Vec<KeyRecord>, TenantError> {
    let store = |e: String| TenantError::Store { path: path.to_owned(), message: e };
    let text = std::fs::read_to_string(path).map_err(|e| store(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| store(e.to_string()))
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn last_use_is_stale(last: Option<&str>) -> bool {
    let now = jiff::Timestamp::now().as_second();
    last.and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .is_none_or(|t| now - t.as_second() >= LAST_USED_RESOLUTION_SECONDS)
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

    #[test]
    fn a_key_revoked_by_another_process_stops_working_at_once_and_use_is_recorded() {
        let dir = temp_dir("revoke");
        let server = TenantRegistry::open(&dir).expect("opens");
        server.put_tenant(TenantConfig::sample("acme")).expect("tenant");
        let (old, old_secret) = server.create_key("acme", "old", "2026-12-04T00:00:00Z").expect("key");
        let (_, new_secret) = server.create_key("acme", "new", "2026-12-04T00:00:00Z").expect("key");
        assert!(server.resolve(&old_secret).is_some() && server.resolve(&new_secret).is_some(), "two keys active");
        let used = server.keys("acme").into_iter().find(|k| k.id == old.id).expect("listed");
        assert!(used.last_used_at.is_some(), "the use is written down");
        // The CLI, another process on the same data directory, revokes the old key.
        let cli = TenantRegistry::open(&dir).expect("opens");
        assert!(cli.revoke_key(&old.id).expect("revoked").revoked);
        assert!(cli.revoke_key(&old.id).is_ok(), "revoking twice changes nothing");
        assert!(matches!(cli.revoke_key("key_missing"), Err(TenantError::UnknownKey(_))));
        assert!(server.resolve(&old_secret).is_none(), "the running server sees the revocation");
        assert!(server.resolve(&new_secret).is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
