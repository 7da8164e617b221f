//! [`BlobStore`] on the filesystem, under one root directory.
//!
//! The key `labels/2026/parcel-7.pdf` lives in `<root>/labels/2026/` as two files:
//! - `parcel-7.pdf@<sha256>`: the bytes, named by their hash;
//! - `parcel-7.pdf@meta.json`: which bytes are current (`sha256`), with the content type and size.
//!
//! `@` never occurs in a key, so these names cannot clash with the directory of a longer key (S3 holds both
//! `a/b` and `a/b/c`), nor with another key's files.
//!
//! A put writes the bytes, then replaces the meta file, each through a temporary file in the same directory that
//! is synced and renamed over the target. Since the meta file names the bytes by their hash, a crash at any
//! point leaves the old blob or the new one whole, at worst with an unreferenced file beside it that the next
//! put of the key removes. One process per root: puts and gets are serialised within the process only.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::links::LinkSigner;
use crate::ports::blob::{BlobError, BlobStore, check_key, check_prefix, sha256_hex};

const META_SUFFIX: &str = "meta.json";

#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
    /// Keeps a get from reading bytes that a concurrent put of the same key is removing.
    lock: Arc<Mutex<()>>,
    /// Signs the links [`BlobStore::presign_get`] hands out, and where they are served.
    links: Option<(LinkSigner, String)>,
}

#[derive(Debug, Serialize, Deserialize)]
struct BlobMeta {
    sha256: String,
    content_type: String,
    size: u64,
}

/// Where a key's files go.
struct Location {
    dir: PathBuf,
    name: String,
}

impl Location {
    fn meta(&self) -> PathBuf {
        self.dir.join(format!("{}@{META_SUFFIX}", self.name))
    }

    fn bytes(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{}@{sha256}", self.name))
    }
}

impl FsBlobStore {
    /// A store under `root`, created on the first put.
    pub fn new(root: PathBuf) -> FsBlobStore {
        FsBlobStore { root, lock: Arc::new(Mutex::new(())), links: None }
    }

    /// Hands out links signed by `signer`, served under `base_url` (`http://127.0.0.1:8080`, no trailing
    /// slash; empty for path-only links `/pod-files/…`). Absolute links open from the dashboard and with curl.
    pub fn with_links(mut self, signer: LinkSigner, base_url: impl Into<String>) -> FsBlobStore {
        let base = base_url.into();
        self.links = Some((signer, base.trim_end_matches('/').to_owned()));
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file holding the current bytes of `key`, when it has any: for tools that want to open a blob
    /// directly (and for tests that tamper with one).
    pub fn bytes_path(&self, key: &str) -> Result<Option<PathBuf>, BlobError> {
        let location = self.locate(key)?;
        Ok(read_meta(key, &location)?.map(|meta| location.bytes(&meta.sha256)))
    }

    fn locate(&self, key: &str) -> Result<Location, BlobError> {
        check_key(key)?;
        let (dir, name) = match key.rsplit_once('/') {
            Some((dir, name)) => (self.root.join(dir), name),
            None => (self.root.clone(), key),
        };
        Ok(Location { dir, name: name.to_owned() })
    }

    fn put_now(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<String, BlobError> {
        let location = self.locate(key)?;
        let sha256 = sha256_hex(bytes);
        let meta = BlobMeta { sha256: sha256.clone(), content_type: content_type.to_owned(), size: bytes.len() as u64 };
        let meta = serde_json::to_vec_pretty(&meta).map_err(backend)?;

        let _serialised = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        fs::create_dir_all(&location.dir).map_err(backend)?;
        write_atomically(&location, &location.bytes(&sha256), bytes)?;
        write_atomically(&location, &location.meta(), &meta)?;
        sync_dir(&location.dir)?;
        remove_leftovers(&location, &sha256);
        Ok(sha256)
    }

    fn get_now(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        let location = self.locate(key)?;
        let _serialised = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(meta) = read_meta(key, &location)? else {
            return Ok(None);
        };
        let bytes = match fs::read(location.bytes(&meta.sha256)) {
            Ok(bytes) => bytes,
            // The meta file names bytes that are gone.
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Err(corrupt(key)),
            Err(error) => return Err(backend(error)),
        };
        if sha256_hex(&bytes) == meta.sha256 { Ok(Some(bytes)) } else { Err(corrupt(key)) }
    }

    /// Removes the meta file first (the blob is gone from then on), then every file of the key, then the
    /// folders it leaves empty, so that nothing of an erased blob stays on disk.
    fn delete_now(&self, key: &str) -> Result<(), BlobError> {
        let location = self.locate(key)?;
        let _serialised = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        match fs::remove_file(location.meta()) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(backend(error)),
        }
        // Unlike a put's leftovers, an erased blob's bytes must not stay behind: a failure here is an error.
        if let Ok(entries) = fs::read_dir(&location.dir) {
            let mine = format!("{}@", location.name);
            for entry in entries.flatten() {
                if entry.file_name().to_str().is_some_and(|name| name.starts_with(&mine)) {
                    fs::remove_file(entry.path()).map_err(backend)?;
                }
            }
        }
        let mut dir = location.dir.as_path();
        while dir != self.root && dir.starts_with(&self.root) && fs::remove_dir(dir).is_ok() {
            match dir.parent() {
                Some(parent) => dir = parent,
                None => break,
            }
        }
        Ok(())
    }

    fn list_now(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        check_prefix(prefix)?;
        // The deepest folder every match lives under.
        let folder = prefix.rsplit_once('/').map_or("", |(folder, _)| folder);
        let start = if folder.is_empty() { self.root.clone() } else { self.root.join(folder) };
        let _serialised = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        let mut keys = Vec::new();
        let mut pending = vec![(start, folder.to_owned())];
        while let Some((dir, at)) = pending.pop() {
            let entries = match fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => return Err(backend(error)),
            };
            for entry in entries {
                let entry = entry.map_err(backend)?;
                let Ok(name) = entry.file_name().into_string() else { continue };
                let path = if at.is_empty() { name.clone() } else { format!("{at}/{name}") };
                if entry.file_type().map_err(backend)?.is_dir() {
                    pending.push((entry.path(), path));
                } else if let Some(key) = path.strip_suffix(&format!("@{META_SUFFIX}"))
                    && key.starts_with(prefix)
                {
                    keys.push(key.to_owned());
                }
            }
        }
        keys.sort();
        Ok(keys)
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<String, BlobError> {
        let (store, key, bytes, content_type) = (self.clone(), key.to_owned(), bytes.to_vec(), content_type.to_owned());
        run_blocking(move || store.put_now(&key, &bytes, &content_type)).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        let (store, key) = (self.clone(), key.to_owned());
        run_blocking(move || store.get_now(&key)).await
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let (store, key) = (self.clone(), key.to_owned());
        run_blocking(move || store.delete_now(&key)).await
    }

    async fn presign_get(&self, key: &str, expires_in: std::time::Duration) -> Result<String, BlobError> {
        let Some((signer, base)) = &self.links else {
            return Err(BlobError::Backend(
                "this store was built without a link signer (FsBlobStore::with_links)".into(),
            ));
        };
        let expires = jiff::Timestamp::now().as_second() + i64::try_from(expires_in.as_secs()).unwrap_or(i64::MAX / 2);
        Ok(format!("{base}{}", signer.path(key, expires)?))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        let (store, prefix) = (self.clone(), prefix.to_owned());
        run_blocking(move || store.list_now(&prefix)).await
    }
}

/// Runs file I/O (and its syncs) off the async workers.
async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, BlobError> + Send + 'static,
) -> Result<T, BlobError> {
    tokio::task::spawn_blocking(work).await.map_err(backend)?
}

/// The meta file of `key`, `None` when there is none. One that does not parse, or names its bytes by anything
/// but a SHA-256 (which could lead the read out of the directory), is corrupt.
fn read_meta(key: &str, location: &Location) -> Result<Option<BlobMeta>, BlobError> {
    let bytes = match fs::read(location.meta()) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(backend(error)),
    };
    let meta: BlobMeta = serde_json::from_slice(&bytes).map_err(|_| corrupt(key))?;
    let names_a_hash = meta.sha256.len() == 64 && meta.sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if names_a_hash { Ok(Some(meta)) } else { Err(corrupt(key)) }
}

/// Writes a temporary file beside `target`, syncs it and renames it over `target`: readers see the old file or
/// the new one, never a part.
fn write_atomically(location: &Location, target: &Path, bytes: &[u8]) -> Result<(), BlobError> {
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(backend)?;
    let temp = location.dir.join(format!("{}@tmp-{}", location.name, hex::encode(suffix)));
    let written = File::create_new(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&temp, target));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written.map_err(backend)
}

/// Makes the renames in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), BlobError> {
    #[cfg(unix)]
    File::open(dir).and_then(|dir| dir.sync_all()).map_err(backend)?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes the key's files other than its meta and current bytes: earlier bytes, and whatever a crashed put
/// left. Best effort: a file left over only takes space.
fn remove_leftovers(location: &Location, current_sha256: &str) {
    let Ok(entries) = fs::read_dir(&location.dir) else {
        return;
    };
    let prefix = format!("{}@", location.name);
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(suffix) = file_name.to_str().and_then(|name| name.strip_prefix(&prefix)) else {
            continue;
        };
        if suffix == META_SUFFIX || suffix == current_sha256 {
            continue;
        }
        if let Err(error) = fs::remove_file(entry.path()) {
            tracing::warn!(path = %entry.path().display(), %error, "could not remove a leftover blob file");
        }
    }
}

fn corrupt(key: &str) -> BlobError {
    BlobError::Corrupt { key: key.to_owned() }
}

fn backend(error: impl std::fmt::Display) -> BlobError {
    BlobError::Backend(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempRoot(PathBuf);

    impl TempRoot {
        fn new(test: &str) -> TempRoot {
            let path = std::env::temp_dir().join(format!("lastmile-blob-{}-{test}", std::process::id()));
            let _ = fs::remove_dir_all(&path);
            TempRoot(path)
        }
    }

    impl Drop for TempRoot {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> =
            fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn an_overwrite_leaves_only_the_meta_and_the_current_bytes() {
        let root = TempRoot::new("overwrite");
        let store = FsBlobStore::new(root.0.clone());
        store.put("labels/p1.pdf", b"first", "application/pdf").await.unwrap();
        // What a put killed between its two renames leaves behind.
        fs::write(root.0.join("labels/p1.pdf@tmp-0123456789abcdef"), b"half").unwrap();
        let sha = store.put("labels/p1.pdf", b"second", "application/pdf").await.unwrap();
        assert_eq!(files_in(&root.0.join("labels")), [format!("p1.pdf@{sha}"), "p1.pdf@meta.json".to_owned()]);
        let meta: BlobMeta =
            serde_json::from_slice(&fs::read(root.0.join("labels/p1.pdf@meta.json")).unwrap()).unwrap();
        assert_eq!((meta.sha256.as_str(), meta.content_type.as_str(), meta.size), (sha.as_str(), "application/pdf", 6));
        assert_eq!(store.bytes_path("labels/p1.pdf").unwrap(), Some(root.0.join(format!("labels/p1.pdf@{sha}"))));
    }

    #[tokio::test]
    async fn a_delete_leaves_no_file_of_the_blob_on_disk() {
        let root = TempRoot::new("delete");
        let store = FsBlobStore::new(root.0.clone());
        store.put("acme/personal/c1/note.txt", b"first", "text/plain").await.unwrap();
        store.put("acme/personal/c1/note.txt", b"second", "text/plain").await.unwrap();
        fs::write(root.0.join("acme/personal/c1/note.txt@tmp-0123456789abcdef"), b"half").unwrap();
        store.put("acme/other.txt", b"kept", "text/plain").await.unwrap();
        store.delete("acme/personal/c1/note.txt").await.unwrap();
        assert!(!root.0.join("acme/personal").exists(), "the emptied folders are removed too");
        assert_eq!(
            files_in(&root.0.join("acme")),
            [format!("other.txt@{}", sha256_hex(b"kept")), "other.txt@meta.json".to_owned()]
        );
        assert_eq!(store.list("acme/").await.unwrap(), ["acme/other.txt"]);
    }

    #[tokio::test]
    async fn a_meta_file_pointing_out_of_its_directory_is_corrupt() {
        let root = TempRoot::new("escape");
        let store = FsBlobStore::new(root.0.clone());
        store.put("a", b"x", "text/plain").await.unwrap();
        let meta = r#"{"sha256": "../../etc/passwd", "content_type": "text/plain", "size": 1}"#;
        fs::write(root.0.join("a@meta.json"), meta).unwrap();
        assert_eq!(store.get("a").await, Err(BlobError::Corrupt { key: "a".to_owned() }));
    }
}
