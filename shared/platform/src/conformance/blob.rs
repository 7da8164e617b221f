//! The [`BlobStore`] conformance suite, and the embedded store's own check that tampering is caught.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use super::{check, step};
use crate::embedded::blob::FsBlobStore;
use crate::embedded::links::LinkSigner;
use crate::ports::blob::{BlobError, BlobStore, sha256_hex};

/// Keys no store may take.
const INVALID_KEYS: [&str; 11] = ["", "../x", "/abs", "a/../b", "a/./b", "a//b", "a/", "./a", "a b", "ü", "a\\b"];

/// Runs every check against `store`. Keys go under a fresh random prefix, so that a shared bucket does; the
/// suite deletes what it put as its last checks.
pub async fn blob_suite(store: &dyn BlobStore) -> Result<(), String> {
    let prefix = format!("conformance-{}", random_hex()?);
    let key = |name: &str| format!("{prefix}/{name}");

    let hello = key("notes/hello.txt");
    let sha = step("put", store.put(&hello, b"hello, blobs", "text/plain").await)?;
    check!(sha == sha256_hex(b"hello, blobs"), "put answered {sha}, not the SHA-256 of the bytes");
    check!(read(store, &hello).await? == Some(b"hello, blobs".to_vec()), "get did not answer the bytes put");

    let sha = step("overwrite", store.put(&hello, b"hello again", "text/plain").await)?;
    check!(sha == sha256_hex(b"hello again"), "an overwrite answered {sha}, not the SHA-256 of the new bytes");
    check!(
        read(store, &hello).await? == Some(b"hello again".to_vec()),
        "get after an overwrite did not answer the new bytes"
    );

    check!(read(store, &key("missing")).await?.is_none(), "get of a key never put answered bytes");
    check!(read(store, &key("notes")).await?.is_none(), "get of a key's parent path answered bytes");
    let nested = key("notes/hello.txt/inner");
    step("put under a key that holds a blob", store.put(&nested, b"inner", "text/plain").await)?;
    check!(read(store, &nested).await? == Some(b"inner".to_vec()), "a blob under another blob's key was lost");
    check!(
        read(store, &hello).await? == Some(b"hello again".to_vec()),
        "a blob changed when one was put under its key"
    );

    let every_byte: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    binary_round_trip(store, &key("every-byte.bin"), &every_byte).await?;
    binary_round_trip(store, &key("empty.bin"), &[]).await?;
    binary_round_trip(store, &key("large.bin"), &pseudo_random_bytes(1 << 20)).await?;

    for invalid in INVALID_KEYS {
        let put = store.put(invalid, b"x", "text/plain").await;
        check!(matches!(put, Err(BlobError::InvalidKey(_))), "put with key {invalid:?} answered {put:?}");
        let get = store.get(invalid).await;
        check!(matches!(get, Err(BlobError::InvalidKey(_))), "get with key {invalid:?} answered {get:?}");
        let delete = store.delete(invalid).await;
        check!(matches!(delete, Err(BlobError::InvalidKey(_))), "delete with key {invalid:?} answered {delete:?}");
    }
    list_and_delete(store, &prefix).await
}

/// Listing by folder and by partial segment, deleting (twice is fine), and nothing left after deleting all.
async fn list_and_delete(store: &dyn BlobStore, prefix: &str) -> Result<(), String> {
    let key = |name: &str| format!("{prefix}/{name}");
    let all = step("list the run's folder", store.list(&format!("{prefix}/")).await)?;
    let expected: Vec<String> = {
        let mut keys: Vec<String> =
            ["notes/hello.txt", "notes/hello.txt/inner", "every-byte.bin", "empty.bin", "large.bin"]
                .iter()
                .map(|name| key(name))
                .collect();
        keys.sort();
        keys
    };
    check!(all == expected, "list of the run's folder answered {all:?}, expected {expected:?}");
    let notes = step("list a folder", store.list(&key("notes/")).await)?;
    check!(notes == [key("notes/hello.txt"), key("notes/hello.txt/inner")], "list of a folder answered {notes:?}");
    let partial = step("list a partial segment", store.list(&key("e")).await)?;
    check!(partial == [key("empty.bin"), key("every-byte.bin")], "list by a partial segment answered {partial:?}");
    let none = step("list an empty folder", store.list(&key("nothing/")).await)?;
    check!(none.is_empty(), "list of a folder with nothing answered {none:?}");
    let bad = store.list("../x").await;
    check!(matches!(bad, Err(BlobError::InvalidKey(_))), "list with prefix \"../x\" answered {bad:?}");

    let hello = key("notes/hello.txt");
    step("delete", store.delete(&hello).await)?;
    check!(read(store, &hello).await?.is_none(), "get after a delete answered bytes");
    check!(
        read(store, &key("notes/hello.txt/inner")).await? == Some(b"inner".to_vec()),
        "deleting a key removed the blob under it"
    );
    step("delete again", store.delete(&hello).await)?;
    step("delete a key never put", store.delete(&key("never")).await)?;
    for k in step("list before cleaning up", store.list(&format!("{prefix}/")).await)? {
        step(&format!("delete {k}"), store.delete(&k).await)?;
    }
    let left = step("list after deleting all", store.list(&format!("{prefix}/")).await)?;
    check!(left.is_empty(), "blobs left after deleting every listed key: {left:?}");
    Ok(())
}

/// For [`FsBlobStore`] only: a stored file changed behind the store's back is reported as
/// [`BlobError::Corrupt`], never answered.
pub async fn fs_blob_corruption(root: PathBuf) -> Result<(), String> {
    let store = FsBlobStore::new(root);
    let key = "labels/parcel-1.pdf";
    let original = b"%PDF-1.7 a shipping label".to_vec();
    step("put", store.put(key, &original, "application/pdf").await)?;
    let path = step("find the stored file", store.bytes_path(key))?.ok_or("no stored file after a put")?;
    let corrupt = Err(BlobError::Corrupt { key: key.to_owned() });

    let mut flipped = original.clone();
    flipped[0] ^= 0x01;
    step("tamper", fs::write(&path, &flipped))?;
    check!(store.get(key).await == corrupt, "a flipped bit was not reported as corrupt");

    step("tamper", fs::write(&path, &original[..original.len() - 1]))?;
    check!(store.get(key).await == corrupt, "a truncated file was not reported as corrupt");

    step("restore", fs::write(&path, &original))?;
    check!(store.get(key).await == Ok(Some(original.clone())), "the restored file was not answered");

    step("remove", fs::remove_file(&path))?;
    check!(store.get(key).await == corrupt, "a missing file was not reported as corrupt");

    step("put again", store.put(key, &original, "application/pdf").await)?;
    check!(store.get(key).await == Ok(Some(original)), "a put did not replace a corrupt blob");
    Ok(())
}

/// For [`FsBlobStore`] with links: a presigned link names the key, verifies with the signer until it expires,
/// and opens no other key.
pub async fn fs_blob_links(root: PathBuf) -> Result<(), String> {
    let signer = LinkSigner::new([3; 32]);
    let store = FsBlobStore::new(root.clone()).with_links(signer.clone(), "http://127.0.0.1:8080/");
    let key = "pod/acme/fedex/1Z999/photo.jpg";
    step("put", store.put(key, b"jpeg bytes", "image/jpeg").await)?;
    let url = step("presign", store.presign_get(key, Duration::from_secs(60)).await)?;
    let prefix = format!("http://127.0.0.1:8080/pod-files/{key}?expires=");
    let query = url.strip_prefix(&prefix).ok_or(format!("link {url} does not start with {prefix}"))?;
    let (expires, signature) = query.split_once("&signature=").ok_or(format!("link {url} has no signature"))?;
    let expires: i64 = expires.parse().map_err(|_| format!("link {url} has no expiry in unix seconds"))?;
    let now = jiff::Timestamp::now().as_second();
    check!((now + 55..=now + 60).contains(&expires), "a 60 s link expires at {expires}, now is {now}");
    check!(signer.verify(key, expires, signature, now).is_ok(), "the link's own signature did not verify");
    check!(signer.verify("pod/other/x.jpg", expires, signature, now).is_err(), "the signature opened another key");
    check!(signer.verify(key, expires, signature, expires).is_err(), "the link verified at its expiry");
    let unsigned = FsBlobStore::new(root).presign_get(key, Duration::from_secs(60)).await;
    check!(unsigned.is_err(), "a store without a signer answered a link: {unsigned:?}");
    Ok(())
}

async fn read(store: &dyn BlobStore, key: &str) -> Result<Option<Vec<u8>>, String> {
    step(&format!("get {key}"), store.get(key).await)
}

async fn binary_round_trip(store: &dyn BlobStore, key: &str, bytes: &[u8]) -> Result<(), String> {
    let sha = step(&format!("put {key}"), store.put(key, bytes, "application/octet-stream").await)?;
    check!(sha == sha256_hex(bytes), "put {key} answered {sha}, not the SHA-256 of its {} bytes", bytes.len());
    let back = read(store, key).await?;
    check!(back.as_deref() == Some(bytes), "get {key} did not answer its {} bytes", bytes.len());
    Ok(())
}

/// Bytes that do not compress or repeat (xorshift), the same on every run.
fn pseudo_random_bytes(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

fn random_hex() -> Result<String, String> {
    let mut bytes = [0u8; 6];
    step("random prefix", getrandom::fill(&mut bytes))?;
    Ok(hex::encode(bytes))
}
