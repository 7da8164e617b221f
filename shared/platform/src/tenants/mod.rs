//! Tenants and their API keys. A key is shown once when it is created; only its SHA-256 is stored. Keys are
//! 256-bit random values, so a plain hash is enough: there is no password to brute-force.
//!
//! Two places keep them. `lastmile dev` and the CLI use the data directory's files (`tenants/<id>.toml`,
//! `keys.json`). A deployed function reads the configuration folder deployed with it and, over it, what the
//! table holds: tenants created when a shop installs the app, keys created or revoked since the deployment
//! (a function's folder is read-only, and instances come and go). Readers answer from memory; the table is
//! reread at most every [`TABLE_REFRESH`], and at once when a key is not found, so a key created on another
//! instance works on its first use and a revoked one stops within that interval.

mod files;
mod table;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{self, ConfigError, TenantConfig};
use crate::ports::table::{StoreError, TableStore};

pub const KEY_PREFIX: &str = "lmk_";

/// How long a function trusts its copy of the table's tenants and keys.
pub const TABLE_REFRESH: Duration = Duration::from_secs(30);
/// How soon an unknown key may send a function back to the table: often enough for a key created a moment ago,
/// rarely enough that a stream of bad keys cannot turn into a stream of table reads.
const MISS_REFRESH: Duration = Duration::from_secs(1);

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
/// What [`TenantRegistry::remove_tenant`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removal {
    pub existed: bool,
    pub keys: usize,
    /// The tenant is in the deployed configuration folder: it stays there, disabled, its keys revoked.
    pub kept_deployed: bool,
}

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
    #[error("tenant registry table: {0}")]
    Table(#[from] StoreError),
    #[error("no tenant '{0}'")]
    UnknownTenant(String),
    #[error("no key '{0}'")]
    UnknownKey(String),
    #[error(
        "tenant id '{0}' is invalid: use 1-64 lowercase letters, digits, '-' or '_', starting with a letter or digit"
    )]
    InvalidId(String),
    #[error("cannot draw random bytes for a key: {0}")]
    Random(String),
}

/// Tenants and keys as a reader sees them.
#[derive(Debug, Default, Clone)]
struct Snapshot {
    tenants: HashMap<String, Arc<TenantConfig>>,
    keys: Vec<KeyRecord>,
}

#[derive(Default)]
struct State {
    snapshot: Snapshot,
    /// Files: the key file's modification time when it was last read or written.
    keys_modified: Option<std::time::SystemTime>,
    /// Table: the stored version of each key the table holds, for conditional updates.
    versions: HashMap<String, u64>,
    /// Table: keys used since their last use was written down.
    pending_uses: BTreeSet<String>,
}

enum Backing {
    /// A data directory, read and written (`lastmile dev`, the CLI).
    Files(PathBuf),
    /// The deployed folder's tenants and keys (`base`, read-only) under what the table holds.
    Table { table: Arc<dyn TableStore>, base: Snapshot, refreshed: Mutex<Option<Instant>> },
}

/// Tenants and keys of one data directory, or of a deployment's folder and table.
pub struct TenantRegistry {
    backing: Backing,
    state: RwLock<State>,
    limiter: crate::ratelimit::RateLimiter,
}

/// Ids name file and key prefixes; a leading `_` is kept for the store's own partitions.
fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
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

fn now_to_the_second() -> String {
    let now = jiff::Timestamp::now();
    now.round(jiff::Unit::Second).unwrap_or(now).to_string()
}

impl TenantRegistry {
    /// Opens the registry in `data_dir`, reading every tenant file and the key list.
    pub fn open(data_dir: &Path) -> Result<Self, TenantError> {
        let (snapshot, keys_modified) = files::read(data_dir)?;
        let state = State { snapshot, keys_modified, ..State::default() };
        Ok(Self::with(Backing::Files(data_dir.to_owned()), state))
    }

    /// Opens a deployment's registry: the tenants and keys of the deployed folder `dir` (if it has any), under
    /// those of `table`, which takes every change.
    pub async fn open_with_table(dir: &Path, table: Arc<dyn TableStore>) -> Result<Self, TenantError> {
        let (base, _) = files::read(dir)?;
        let backing = Backing::Table { table, base: base.clone(), refreshed: Mutex::new(None) };
        let registry = Self::with(backing, State { snapshot: base, ..State::default() });
        registry.reload().await?;
        Ok(registry)
    }

    fn with(backing: Backing, state: State) -> Self {
        Self { backing, state: RwLock::new(state), limiter: Default::default() }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Brings the copy in memory up to date: the key file when another process changed it; the table when the
    /// copy is older than [`TABLE_REFRESH`] (and then writes down the keys' last uses). A failure keeps the copy
    /// in memory and is logged.
    pub async fn refresh(&self) {
        match &self.backing {
            Backing::Files(dir) => self.refresh_key_file(dir),
            Backing::Table { refreshed, .. } => {
                let stale = lock(refreshed).is_none_or(|at| at.elapsed() >= TABLE_REFRESH);
                if stale {
                    self.flush_uses().await;
                    if let Err(e) = self.reload().await {
                        tracing::warn!(error = %e, "tenant registry not reread; keeping the copy in memory");
                    }
                }
            }
        }
    }

    /// Rereads the key list when another process (`lastmile tenant key …`) changed it, so a revoked key stops
    /// working at once in a running server.
    fn refresh_key_file(&self, dir: &Path) {
        let on_disk = files::keys_modified(dir);
        if on_disk.is_none() || on_disk == self.read().keys_modified {
            return;
        }
        match files::read_keys(dir) {
            Ok(keys) => {
                let mut state = self.write();
                state.snapshot.keys = keys;
                state.keys_modified = on_disk;
            }
            Err(e) => tracing::warn!(error = %e, "key list not reread; keeping the one in memory"),
        }
    }

    /// Reads the table's tenants and keys over the deployed ones.
    async fn reload(&self) -> Result<(), TenantError> {
        let Backing::Table { table, base, refreshed } = &self.backing else {
            return Ok(());
        };
        let stored = table::read(&**table).await?;
        let mut snapshot = base.clone();
        for tenant in stored.tenants {
            snapshot.tenants.insert(tenant.id.clone(), Arc::new(tenant));
        }
        let overridden: BTreeSet<&str> = stored.keys.iter().map(|(k, _)| k.id.as_str()).collect();
        snapshot.keys.retain(|k| !overridden.contains(k.id.as_str()));
        let versions = stored.keys.iter().map(|(k, v)| (k.id.clone(), *v)).collect();
        snapshot.keys.extend(stored.keys.into_iter().map(|(k, _)| k));
        let mut state = self.write();
        state.snapshot = snapshot;
        state.versions = versions;
        *lock(refreshed) = Some(Instant::now());
        Ok(())
    }

    pub fn tenant(&self, id: &str) -> Option<Arc<TenantConfig>> {
        self.read().snapshot.tenants.get(id).cloned()
    }

    /// The tenant whose Shopify shop is `domain`.
    pub fn tenant_by_shop(&self, domain: &str) -> Option<Arc<TenantConfig>> {
        self.tenants().into_iter().find(|t| t.shopify_domain.as_deref().is_some_and(|d| d.eq_ignore_ascii_case(domain)))
    }

    pub fn tenants(&self) -> Vec<Arc<TenantConfig>> {
        let mut all: Vec<_> = self.read().snapshot.tenants.values().cloned().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    pub fn keys(&self, tenant: &str) -> Vec<KeyRecord> {
        self.read().snapshot.keys.iter().filter(|k| k.tenant == tenant).cloned().collect()
    }

    /// Creates (or replaces) a tenant's configuration.
    pub async fn put_tenant(&self, tenant: TenantConfig) -> Result<(), TenantError> {
        if !valid_id(&tenant.id) {
            return Err(TenantError::InvalidId(tenant.id));
        }
        let path = match &self.backing {
            Backing::Files(dir) => files::tenant_path(dir, &tenant.id),
            Backing::Table { .. } => PathBuf::from(format!("registry tenant {}", tenant.id)),
        };
        tenant.check().map_err(|message| ConfigError::Parse { path, message })?;
        match &self.backing {
            Backing::Files(dir) => config::save(&files::tenant_path(dir, &tenant.id), &tenant)?,
            Backing::Table { table, .. } => table::put_tenant(&**table, &tenant).await?,
        }
        self.write().snapshot.tenants.insert(tenant.id.clone(), Arc::new(tenant));
        Ok(())
    }

    /// Enables or disables a tenant (a shop uninstalled or reinstalled the app); answers its configuration.
    pub async fn set_enabled(&self, id: &str, enabled: bool) -> Result<Arc<TenantConfig>, TenantError> {
        self.reload().await?;
        let current = self.tenant(id).ok_or_else(|| TenantError::UnknownTenant(id.to_owned()))?;
        if current.enabled == enabled {
            return Ok(current);
        }
        let changed = TenantConfig { enabled, ..(*current).clone() };
        self.put_tenant(changed).await?;
        self.tenant(id).ok_or_else(|| TenantError::UnknownTenant(id.to_owned()))
    }

    /// Removes a tenant and every key of it (the shop asked for its data to be erased). Removing a tenant that
    /// is not there changes nothing. A tenant of a deployed configuration folder, which functions cannot change,
    /// is kept disabled with every key revoked; [`Removal::kept_deployed`] says so.
    pub async fn remove_tenant(&self, id: &str) -> Result<Removal, TenantError> {
        self.reload().await?;
        let key_ids: Vec<String> = self.keys(id).into_iter().map(|k| k.id).collect();
        let mut removal = Removal { existed: self.tenant(id).is_some(), keys: key_ids.len(), kept_deployed: false };
        match &self.backing {
            Backing::Files(dir) => {
                let path = files::tenant_path(dir, id);
                if path.exists() {
                    std::fs::remove_file(&path)
                        .map_err(|e| TenantError::Store { path: path.clone(), message: e.to_string() })?;
                }
                let mut state = self.write();
                state.snapshot.tenants.remove(id);
                if !key_ids.is_empty() {
                    state.snapshot.keys.retain(|k| k.tenant != id);
                    persist_key_file(dir, &mut state)?;
                }
            }
            Backing::Table { table, base, .. } => {
                table::delete_tenant(&**table, id, &key_ids).await?;
                self.reload().await?;
                if let Some(deployed) = base.tenants.get(id) {
                    removal.kept_deployed = true;
                    self.put_tenant(TenantConfig { enabled: false, ..(**deployed).clone() }).await?;
                    for key in base.keys.iter().filter(|k| k.tenant == id) {
                        self.update_key(&**table, &key.id, |k| k.revoked = true).await?;
                    }
                }
            }
        }
        Ok(removal)
    }

    /// Creates an API key for `tenant` and returns its record and the secret, which is never stored.
    pub async fn create_key(
        &self,
        tenant: &str,
        name: &str,
        created_at: &str,
    ) -> Result<(KeyRecord, String), TenantError> {
        self.create_scoped_key(tenant, name, created_at, KeyScope::Api).await
    }

    /// Creates a key of `scope` for `tenant`; the secret is returned once and never stored.
    pub async fn create_scoped_key(
        &self,
        tenant: &str,
        name: &str,
        created_at: &str,
        scope: KeyScope,
    ) -> Result<(KeyRecord, String), TenantError> {
        if self.tenant(tenant).is_none() {
            self.reload().await?;
            if self.tenant(tenant).is_none() {
                return Err(TenantError::UnknownTenant(tenant.to_owned()));
            }
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
        match &self.backing {
            Backing::Files(dir) => {
                let mut state = self.write();
                state.snapshot.keys.push(record.clone());
                persist_key_file(dir, &mut state)?;
            }
            Backing::Table { table, .. } => {
                let version = table::put_key(&**table, &record, None).await?;
                let mut state = self.write();
                state.snapshot.keys.push(record.clone());
                state.versions.insert(record.id.clone(), version);
            }
        }
        Ok((record, secret))
    }

    /// Revokes a key by its id; revoking a revoked key changes nothing. Answers the key's record.
    pub async fn revoke_key(&self, key_id: &str) -> Result<KeyRecord, TenantError> {
        match &self.backing {
            Backing::Files(dir) => {
                let mut state = self.write();
                let key = state
                    .snapshot
                    .keys
                    .iter_mut()
                    .find(|k| k.id == key_id)
                    .ok_or_else(|| TenantError::UnknownKey(key_id.to_owned()))?;
                let changed = !key.revoked;
                key.revoked = true;
                let record = key.clone();
                if changed {
                    persist_key_file(dir, &mut state)?;
                }
                Ok(record)
            }
            Backing::Table { table, .. } => self
                .update_key(&**table, key_id, |k| k.revoked = true)
                .await?
                .ok_or_else(|| TenantError::UnknownKey(key_id.to_owned())),
        }
    }

    /// Changes a key in the table from a fresh read; a write that raced another is redone from a fresh read.
    /// `None` when there is no such key.
    async fn update_key(
        &self,
        table: &dyn TableStore,
        key_id: &str,
        change: impl Fn(&mut KeyRecord),
    ) -> Result<Option<KeyRecord>, TenantError> {
        for _ in 0..5 {
            self.reload().await?;
            let (mut record, version) = {
                let state = self.read();
                let Some(record) = state.snapshot.keys.iter().find(|k| k.id == key_id).cloned() else {
                    return Ok(None);
                };
                let version = state.versions.get(key_id).copied();
                (record, version)
            };
            let before = record.clone();
            change(&mut record);
            if record == before {
                return Ok(Some(record));
            }
            match table::put_key(table, &record, version).await {
                Ok(version) => {
                    let mut state = self.write();
                    if let Some(k) = state.snapshot.keys.iter_mut().find(|k| k.id == key_id) {
                        *k = record.clone();
                    }
                    state.versions.insert(record.id.clone(), version);
                    return Ok(Some(record));
                }
                Err(StoreError::ConditionFailed) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Backend(format!("key {key_id} kept changing under the update")).into())
    }

    /// Takes one request from the tenant's rate limit, or says how long until one is free.
    pub fn admit(&self, tenant: &TenantConfig) -> Result<(), Duration> {
        self.limiter.admit(&tenant.id, tenant.limits)
    }

    /// The tenant of an API key, if the key is known, not revoked, and its tenant exists.
    pub fn resolve(&self, secret: &str) -> Option<TenantContext> {
        self.resolve_scoped(secret, KeyScope::Api)
    }

    /// The tenant of a key of `scope` from the copy in memory (the key file is checked for changes first).
    pub fn resolve_scoped(&self, secret: &str, scope: KeyScope) -> Option<TenantContext> {
        if !secret.starts_with(KEY_PREFIX) {
            return None;
        }
        if let Backing::Files(dir) = &self.backing {
            self.refresh_key_file(dir);
        }
        let hash = hash_key(secret);
        let (context, stale) = {
            let state = self.read();
            let key = state
                .snapshot
                .keys
                .iter()
                .find(|k| !k.revoked && k.scope == scope && constant_time_eq(k.hash.as_bytes(), hash.as_bytes()))?;
            let tenant = state.snapshot.tenants.get(&key.tenant)?.clone();
            (TenantContext { tenant, key_id: key.id.clone() }, last_use_is_stale(key.last_used_at.as_deref()))
        };
        if stale {
            self.note_use(&context.key_id);
        }
        Some(context)
    }

    /// The tenant of a key of `scope`, from a copy no older than [`TABLE_REFRESH`]; an unknown key sends a
    /// deployed function back to the table (at most once per [`MISS_REFRESH`]) before it is refused.
    pub async fn resolve_current(&self, secret: &str, scope: KeyScope) -> Option<TenantContext> {
        if !secret.starts_with(KEY_PREFIX) {
            return None;
        }
        self.refresh().await;
        if let Some(context) = self.resolve_scoped(secret, scope) {
            return Some(context);
        }
        let Backing::Table { refreshed, .. } = &self.backing else {
            return None;
        };
        if lock(refreshed).is_some_and(|at| at.elapsed() < MISS_REFRESH) {
            return None;
        }
        if let Err(e) = self.reload().await {
            tracing::warn!(error = %e, "tenant registry not reread");
        }
        self.resolve_scoped(secret, scope)
    }

    /// Writes down a key's last use: at once in a key file; in the table with the next refresh, so a request
    /// does not wait for it. A failure to write only loses that note.
    fn note_use(&self, key_id: &str) {
        let now = now_to_the_second();
        let mut state = self.write();
        if let Some(key) = state.snapshot.keys.iter_mut().find(|k| k.id == key_id) {
            key.last_used_at = Some(now);
        }
        match &self.backing {
            Backing::Files(dir) => {
                if let Err(e) = persist_key_file(dir, &mut state) {
                    tracing::warn!(error = %e, "key use not recorded");
                }
            }
            Backing::Table { .. } => {
                state.pending_uses.insert(key_id.to_owned());
            }
        }
    }

    async fn flush_uses(&self) {
        let Backing::Table { table, .. } = &self.backing else {
            return;
        };
        let pending: Vec<(String, Option<String>)> = {
            let mut state = self.write();
            let ids = std::mem::take(&mut state.pending_uses);
            ids.into_iter()
                .map(|id| {
                    let used = state.snapshot.keys.iter().find(|k| k.id == id).and_then(|k| k.last_used_at.clone());
                    (id, used)
                })
                .collect()
        };
        for (id, used) in pending {
            let Some(used) = used else { continue };
            let result = self
                .update_key(&**table, &id, |k| {
                    if k.last_used_at.as_deref() < Some(used.as_str()) {
                        k.last_used_at = Some(used.clone());
                    }
                })
                .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, key = %id, "key use not recorded");
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn persist_key_file(dir: &Path, state: &mut State) -> Result<(), TenantError> {
    files::write_keys(dir, &state.snapshot.keys)?;
    state.keys_modified = files::keys_modified(dir);
    Ok(())
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

    #[tokio::test]
    async fn a_created_key_resolves_to_its_tenant_and_is_stored_only_hashed() {
        let dir = temp_dir("resolve");
        let registry = TenantRegistry::open(&dir).expect("opens");
        registry.put_tenant(TenantConfig::sample("acme")).await.expect("tenant");
        let (record, secret) = registry.create_key("acme", "ci", "2026-11-25T00:00:00Z").await.expect("key");
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
            .await
            .expect("key");
        assert!(registry.resolve(&token).is_none(), "a carrier-service token does not open the API");
        assert!(registry.resolve_scoped(&token, KeyScope::CarrierService).is_some());
        assert!(registry.resolve_scoped(&secret, KeyScope::CarrierService).is_none(), "nor an API key the callback");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn keys_of_one_tenant_do_not_open_another() {
        let dir = temp_dir("isolation");
        let registry = TenantRegistry::open(&dir).expect("opens");
        registry.put_tenant(TenantConfig::sample("a")).await.expect("tenant a");
        registry.put_tenant(TenantConfig::sample("b")).await.expect("tenant b");
        let (_, key_a) = registry.create_key("a", "k", "t").await.expect("key");
        assert_eq!(registry.resolve(&key_a).map(|c| c.tenant.id.clone()).as_deref(), Some("a"));
        assert!(registry.create_key("missing", "k", "t").await.is_err());
        assert!(registry.put_tenant(TenantConfig::sample("Bad Id")).await.is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_key_revoked_by_another_process_stops_working_at_once_and_use_is_recorded() {
        let dir = temp_dir("revoke");
        let server = TenantRegistry::open(&dir).expect("opens");
        server.put_tenant(TenantConfig::sample("acme")).await.expect("tenant");
        let (old, old_secret) = server.create_key("acme", "old", "2026-12-04T00:00:00Z").await.expect("key");
        let (_, new_secret) = server.create_key("acme", "new", "2026-12-04T00:00:00Z").await.expect("key");
        assert!(server.resolve(&old_secret).is_some() && server.resolve(&new_secret).is_some(), "two keys active");
        let used = server.keys("acme").into_iter().find(|k| k.id == old.id).expect("listed");
        assert!(used.last_used_at.is_some(), "the use is written down");
        // The CLI, another process on the same data directory, revokes the old key.
        let cli = TenantRegistry::open(&dir).expect("opens");
        assert!(cli.revoke_key(&old.id).await.expect("revoked").revoked);
        assert!(cli.revoke_key(&old.id).await.is_ok(), "revoking twice changes nothing");
        assert!(matches!(cli.revoke_key("key_missing").await, Err(TenantError::UnknownKey(_))));
        assert!(server.resolve(&old_secret).is_none(), "the running server sees the revocation");
        assert!(server.resolve(&new_secret).is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn embedded_table(name: &str) -> Arc<dyn TableStore> {
        let dir = temp_dir(name);
        std::fs::create_dir_all(&dir).expect("dir");
        let clock = Arc::new(crate::ports::clock::SystemClock);
        Arc::new(crate::embedded::table::EmbeddedTable::open(&dir.join("state.redb"), clock).expect("table"))
    }

    #[tokio::test]
    async fn a_deployment_sees_tenants_and_keys_created_on_another_instance() {
        let table = embedded_table("table-instances");
        let deployed = temp_dir("table-deployed");
        let files = TenantRegistry::open(&deployed).expect("opens");
        files.put_tenant(TenantConfig::sample("shipped")).await.expect("tenant");
        let (_, shipped_key) = files.create_key("shipped", "deploy", "2026-12-04T00:00:00Z").await.expect("key");

        let one = TenantRegistry::open_with_table(&deployed, table.clone()).await.expect("instance one");
        let two = TenantRegistry::open_with_table(&deployed, table.clone()).await.expect("instance two");
        assert!(one.resolve_current(&shipped_key, KeyScope::Api).await.is_some(), "the deployed folder's key");

        // A shop installs on instance one: its tenant and CarrierService token land in the table.
        one.put_tenant(TenantConfig::sample("installed")).await.expect("tenant in the table");
        let (_, token) = one
            .create_scoped_key("installed", "shopify", "2026-12-04T00:00:00Z", KeyScope::CarrierService)
            .await
            .expect("key in the table");
        assert!(two.tenant("installed").is_none(), "instance two has not reread yet");
        assert!(two.resolve_current(&token, KeyScope::CarrierService).await.is_none(), "nor just after a reread");
        tokio::time::sleep(MISS_REFRESH + Duration::from_millis(50)).await;
        let found = two.resolve_current(&token, KeyScope::CarrierService).await.expect("an unknown key rereads");
        assert_eq!(found.tenant.id, "installed");
        assert!(two.resolve_current("lmk_unknown", KeyScope::Api).await.is_none());

        // A third instance starting later sees both, and the key file of the deployment was not touched.
        let three = TenantRegistry::open_with_table(&deployed, table.clone()).await.expect("instance three");
        assert_eq!(three.tenants().len(), 2);
        assert_eq!(files::read_keys(&deployed).expect("keys").len(), 1);
        let _ = std::fs::remove_dir_all(&deployed);
    }

    #[tokio::test]
    async fn revoking_in_the_table_reaches_every_instance_including_deployed_keys() {
        let table = embedded_table("table-revoke");
        let deployed = temp_dir("table-revoke-deployed");
        let files = TenantRegistry::open(&deployed).expect("opens");
        files.put_tenant(TenantConfig::sample("shipped")).await.expect("tenant");
        let (shipped, shipped_key) = files.create_key("shipped", "deploy", "2026-12-04T00:00:00Z").await.expect("key");

        let one = TenantRegistry::open_with_table(&deployed, table.clone()).await.expect("instance one");
        let (created, created_key) = one.create_key("shipped", "rotation", "2026-12-04T00:00:00Z").await.expect("key");
        assert!(one.resolve_current(&created_key, KeyScope::Api).await.is_some());

        let admin = TenantRegistry::open_with_table(&deployed, table.clone()).await.expect("admin");
        assert!(
            admin.revoke_key(&shipped.id).await.expect("revoked").revoked,
            "a deployed key is revoked in the table"
        );
        assert!(admin.revoke_key(&created.id).await.expect("revoked").revoked);
        assert!(admin.revoke_key(&created.id).await.is_ok(), "revoking twice changes nothing");
        assert!(matches!(admin.revoke_key("key_missing").await, Err(TenantError::UnknownKey(_))));

        // Instance one still trusts its copy until it rereads; a fresh instance refuses both at once.
        let fresh = TenantRegistry::open_with_table(&deployed, table.clone()).await.expect("fresh");
        assert!(fresh.resolve_current(&shipped_key, KeyScope::Api).await.is_none());
        assert!(fresh.resolve_current(&created_key, KeyScope::Api).await.is_none());
        one.reload().await.expect("reread");
        assert!(one.resolve_scoped(&created_key, KeyScope::Api).is_none(), "after the reread, refused");

        // A key's last use is written down with the next refresh, without undoing the revocation.
        let (_, live_key) = admin.create_key("shipped", "live", "2026-12-04T00:00:00Z").await.expect("key");
        assert!(admin.resolve_current(&live_key, KeyScope::Api).await.is_some());
        admin.flush_uses().await;
        let reread = TenantRegistry::open_with_table(&deployed, table).await.expect("reread");
        let keys = reread.keys("shipped");
        assert!(keys.iter().find(|k| k.name == "live").and_then(|k| k.last_used_at.as_ref()).is_some());
        assert!(keys.iter().filter(|k| k.name != "live").all(|k| k.revoked));
        let _ = std::fs::remove_dir_all(&deployed);
    }

    #[tokio::test]
    async fn a_disabled_tenant_keeps_its_keys_and_says_so_until_enabled_again() {
        let table = embedded_table("table-disable");
        let deployed = temp_dir("table-disable-deployed");
        let one = TenantRegistry::open_with_table(&deployed, table.clone()).await.expect("instance one");
        one.put_tenant(TenantConfig::sample("shop")).await.expect("tenant");
        let (_, key) = one.create_key("shop", "k", "2026-12-04T00:00:00Z").await.expect("key");
        assert!(!one.set_enabled("shop", false).await.expect("disabled").enabled);
        let two = TenantRegistry::open_with_table(&deployed, table).await.expect("instance two");
        assert!(!two.resolve_current(&key, KeyScope::Api).await.expect("the key still resolves").tenant.enabled);
        assert!(two.set_enabled("shop", true).await.expect("enabled").enabled);
        assert!(one.set_enabled("missing", true).await.is_err());
        let _ = std::fs::remove_dir_all(&deployed);
    }

    #[tokio::test]
    async fn removing_a_tenant_takes_its_configuration_and_every_key_and_repeats_safely() {
        let dir = temp_dir("remove-files");
        let registry = TenantRegistry::open(&dir).expect("opens");
        registry.put_tenant(TenantConfig::sample("gone")).await.expect("tenant");
        registry.put_tenant(TenantConfig::sample("stays")).await.expect("tenant");
        let (_, gone_key) = registry.create_key("gone", "k", "2026-12-04T00:00:00Z").await.expect("key");
        let (_, stays_key) = registry.create_key("stays", "k", "2026-12-04T00:00:00Z").await.expect("key");
        let removal = registry.remove_tenant("gone").await.expect("removed");
        assert_eq!(removal, Removal { existed: true, keys: 1, kept_deployed: false });
        assert!(registry.tenant("gone").is_none() && registry.resolve(&gone_key).is_none());
        assert!(!files::tenant_path(&dir, "gone").exists());
        let reopened = TenantRegistry::open(&dir).expect("reopens");
        assert!(reopened.tenant("gone").is_none() && reopened.keys("gone").is_empty());
        assert!(reopened.resolve(&stays_key).is_some(), "another tenant is untouched");
        let again = registry.remove_tenant("gone").await.expect("repeats");
        assert_eq!(again, Removal { existed: false, keys: 0, kept_deployed: false });
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_removed_tenant_leaves_the_table_and_a_deployed_one_is_kept_disabled_with_keys_revoked() {
        let table = embedded_table("table-remove");
        let deployed = temp_dir("table-remove-deployed");
        let files = TenantRegistry::open(&deployed).expect("opens");
        files.put_tenant(TenantConfig::sample("shipped")).await.expect("tenant");
        let (_, shipped_key) = files.create_key("shipped", "deploy", "2026-12-04T00:00:00Z").await.expect("key");

        let one = TenantRegistry::open_with_table(&deployed, table.clone()).await.expect("instance one");
        one.put_tenant(TenantConfig::sample("installed")).await.expect("tenant");
        let (_, installed_key) = one.create_key("installed", "k", "2026-12-04T00:00:00Z").await.expect("key");
        let removal = one.remove_tenant("installed").await.expect("removed");
        assert_eq!(removal, Removal { existed: true, keys: 1, kept_deployed: false });
        let fresh = TenantRegistry::open_with_table(&deployed, table.clone()).await.expect("fresh");
        assert!(fresh.tenant("installed").is_none());
        assert!(fresh.resolve_current(&installed_key, KeyScope::Api).await.is_none());

        let removal = one.remove_tenant("shipped").await.expect("kept");
        assert!(removal.kept_deployed && removal.existed);
        let fresh = TenantRegistry::open_with_table(&deployed, table).await.expect("fresh");
        assert!(!fresh.tenant("shipped").expect("still deployed").enabled);
        assert!(fresh.resolve_current(&shipped_key, KeyScope::Api).await.is_none(), "its deployed key is revoked");
        let _ = std::fs::remove_dir_all(&deployed);
    }

    #[test]
    fn ids_starting_with_an_underscore_are_kept_for_the_store() {
        assert!(valid_id("acme-shop_1") && valid_id("9lives"));
        assert!(!valid_id("_registry") && !valid_id("-x") && !valid_id("") && !valid_id("Acme"));
    }
}
