//! Where personal blobs live, so that erasure and expiry find them by prefix:
//!
//! - a customer's files (labels, return labels …): `personal/{tenant}/{customer ref}/{date}/…`
//! - exports for `customers/data_request`: `privacy-exports/{tenant}/{date}/{request id}.json`, each with a
//!   personal item of kind `privacy-export` (indexed by customer, expiring with the export) that names it, so
//!   `customers/redact` finds a customer's exports while the key itself (which the audit keeps) names nobody.
//!
//! - proof-of-delivery files: `pod/{tenant}/{carrier}/{tracking number}/{sha256}-{name}` ([`pod_folder`]).
//!
//! Each kind sits under one top-level prefix so that S3 can expire it with a single lifecycle rule
//! (infra/template.yaml); the date segment (the day stored, UTC) lets the embedded store's retention job expire
//! exports and customer files by key alone.

use jiff::Timestamp;
use jiff::civil::Date;

use super::registry::Declaration;
use crate::ports::blob::{BlobError, BlobStore};

pub const EXPORTS_PREFIX: &str = "privacy-exports";
pub const CUSTOMER_FILES_PREFIX: &str = "personal";

/// An export holds everything stored about a customer: personal itself, kept only long enough for the seller
/// to pass it on.
pub const EXPORT: Declaration = Declaration {
    kind: "privacy-export",
    record: "blobs",
    fields: &["the whole document"],
    purpose: "answering a customer's data request (Shopify's customers/data_request)",
    retention_days: 30,
};

/// Files about a customer: shipping labels, proof of delivery, returns, claims.
pub const CUSTOMER_FILES: Declaration = Declaration {
    kind: "customer-files",
    record: "blobs",
    fields: &["the whole file"],
    purpose: "shipping labels (they print the buyer's name and address), proof of delivery, returns and claims",
    retention_days: 365,
};

fn day(now: Timestamp) -> Date {
    now.to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// The folder of a customer's files.
pub fn customer_folder(tenant: &str, customer: &str) -> String {
    format!("{}{customer}/", customers_folder(tenant))
}

/// The folder of all of a tenant's customer files.
pub fn customers_folder(tenant: &str) -> String {
    format!("{CUSTOMER_FILES_PREFIX}/{tenant}/")
}

/// Every folder that holds a tenant's blobs: what `shop/redact` empties. Besides the personal ones, the carrier
/// invoices dropped for reconciliation and its dispute files (`lastmile_fn_reconcile`).
pub fn tenant_folders(tenant: &str) -> [String; 6] {
    [
        format!("{tenant}/"),
        customers_folder(tenant),
        exports_folder(tenant),
        pod_folder(tenant),
        format!("invoices/inbox/{tenant}/"),
        format!("invoices/disputes/{tenant}/"),
    ]
}

/// Where a customer's file named `name` stored at `now` goes.
pub fn customer_file(tenant: &str, customer: &str, now: Timestamp, name: &str) -> String {
    format!("{}{}/{name}", customer_folder(tenant, customer), day(now))
}

pub fn exports_folder(tenant: &str) -> String {
    format!("{EXPORTS_PREFIX}/{tenant}/")
}

pub fn export_key(tenant: &str, now: Timestamp, request: &str) -> String {
    format!("{}{}/{}.json", exports_folder(tenant), day(now), safe_segment(request))
}

/// A request id as a key segment: as is when it is plain, else its hash.
pub fn safe_segment(id: &str) -> String {
    let plain = !id.is_empty()
        && id.len() <= 100
        && id != "."
        && id != ".."
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if plain { id.to_owned() } else { crate::ports::blob::sha256_hex(id.as_bytes())[..32].to_owned() }
}

/// The folder of a tenant's proof-of-delivery files: `pod/{tenant}/{carrier}/{tracking number}/{sha256}-{name}`,
/// each with a [`crate::repo::tracking::PodFileRecord`] that carries its expiry (POD keys have no date segment:
/// the record is the clock).
pub fn pod_folder(tenant: &str) -> String {
    format!("pod/{tenant}/")
}

/// Deletes a tenant's POD files whose record has expired ([`crate::repo::tracking::POD_PERSONAL`]'s retention)
/// or is gone (the store's TTL removed it, or an erasure did), with the expired records; answers how many files.
/// `lastmile dev`'s stand-in for the POD bucket's lifecycle rule.
pub async fn expire_pod_files(
    table_store: &dyn crate::ports::table::TableStore,
    blobs: &dyn BlobStore,
    tenant: &str,
    now: Timestamp,
) -> Result<usize, super::PrivacyError> {
    use crate::ports::table::{Condition, TenantTable};
    use crate::repo::tracking;
    let table = TenantTable::new(table_store, tenant);
    let mut records: std::collections::BTreeMap<(String, String), Vec<tracking::PodFileRecord>> = Default::default();
    let mut deleted = 0;
    for key in blobs.list(&pod_folder(tenant)).await? {
        // pod/{tenant}/{carrier}/{number}/{file}
        let mut segments = key.split('/').skip(2);
        let (Some(carrier), Some(number)) = (segments.next(), segments.next()) else { continue };
        let pair = (carrier.to_owned(), number.to_owned());
        if !records.contains_key(&pair) {
            records.insert(pair.clone(), tracking::pod_files(&table, carrier, number).await?);
        }
        let live = records[&pair].iter().any(|r| r.file.key == key && r.expires_at > now.as_second());
        if !live {
            blobs.delete(&key).await?;
            deleted += 1;
        }
    }
    for record in records.values().flatten().filter(|r| r.expires_at <= now.as_second()) {
        table.delete(&crate::repo::Record::key(record), Condition::Always).await?;
    }
    Ok(deleted)
}

/// The day a personal blob was stored, read from its key (the segment after the customer).
fn stored_on(key: &str, folder_depth: usize) -> Option<Date> {
    key.split('/').nth(folder_depth)?.parse().ok()
}

/// Deletes a tenant's personal blobs older than their kind's retention (`lastmile dev`'s stand-in for S3's
/// lifecycle rule); answers how many.
pub async fn expire(blobs: &dyn BlobStore, tenant: &str, now: Timestamp) -> Result<usize, BlobError> {
    let today = day(now);
    let mut deleted = 0;
    // (prefix, segment index of the date, retention)
    let kinds = [
        (customers_folder(tenant), 3, CUSTOMER_FILES.retention_days),
        (exports_folder(tenant), 2, EXPORT.retention_days),
    ];
    for (prefix, depth, days) in kinds {
        for key in blobs.list(&prefix).await? {
            let expired = stored_on(&key, depth)
                .is_some_and(|d| (today - d).get_days() >= i32::try_from(days).unwrap_or(i32::MAX));
            if expired {
                blobs.delete(&key).await?;
                deleted += 1;
            }
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::blob::FsBlobStore;

    #[tokio::test]
    async fn personal_blobs_past_their_retention_are_deleted_and_younger_ones_kept() {
        let root = std::env::temp_dir().join(format!("lastmile-privacy-expire-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let store = FsBlobStore::new(root.clone());
        let stored: Timestamp = "2026-01-01T12:00:00Z".parse().unwrap();
        let file = customer_file("acme", "shopify-1", stored, "pod.jpg");
        let export = export_key("acme", stored, "42");
        let other = customer_file("globex", "shopify-1", stored, "pod.jpg");
        for key in [&file, &export, &other] {
            store.put(key, b"x", "image/jpeg").await.unwrap();
        }
        let days = |n: i64| stored + jiff::SignedDuration::from_hours(24 * n);
        assert_eq!(expire(&store, "acme", days(29)).await.unwrap(), 0);
        assert_eq!(expire(&store, "acme", days(i64::from(EXPORT.retention_days))).await.unwrap(), 1);
        assert_eq!(store.list("privacy-exports/").await.unwrap(), Vec::<String>::new());
        assert_eq!(expire(&store, "acme", days(i64::from(CUSTOMER_FILES.retention_days))).await.unwrap(), 1);
        assert_eq!(store.list("acme/").await.unwrap(), Vec::<String>::new());
        assert_eq!(
            store.list(&customers_folder("globex")).await.unwrap(),
            [other],
            "another tenant's files are its own job's"
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[tokio::test]
    async fn pod_files_go_when_their_record_expires_or_is_gone() {
        use crate::embedded::table::EmbeddedTable;
        use crate::ports::clock::ManualClock;
        use crate::ports::table::{Condition, TenantTable};
        use crate::repo::tracking::{POD_PERSONAL, PodFileRecord, StoredPod};
        let root = std::env::temp_dir().join(format!("lastmile-privacy-pod-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let stored: Timestamp = "2026-01-01T12:00:00Z".parse().unwrap();
        let clock = std::sync::Arc::new(ManualClock::new(stored));
        let db = std::sync::Arc::new(redb::Database::create(root.join("state.redb")).unwrap());
        let table_store = EmbeddedTable::on(db, clock).unwrap();
        let blobs = FsBlobStore::new(root.join("blobs"));
        let kept = "pod/acme/fedex/1Z1/aa-door.jpg";
        let orphan = "pod/acme/fedex/1Z1/bb-sig.png";
        let other = "pod/globex/fedex/1Z1/aa-door.jpg";
        for key in [kept, orphan, other] {
            blobs.put(key, b"x", "image/jpeg").await.unwrap();
        }
        let record = PodFileRecord {
            carrier: "fedex".into(),
            tracking_number: "1Z1".into(),
            file: StoredPod {
                name: "door.jpg".into(),
                key: kept.into(),
                sha256: crate::ports::blob::sha256_hex(b"x"),
                content_type: "image/jpeg".into(),
                bytes: 1,
            },
            stored_at: stored,
            expires_at: POD_PERSONAL.expiry(stored),
        };
        let table = TenantTable::new(&table_store, "acme");
        crate::repo::save(&table, &record, Condition::Always).await.unwrap();
        // A day in: the file with a live record stays, the one without goes.
        let day = |n: i64| stored + jiff::SignedDuration::from_hours(24 * n);
        assert_eq!(expire_pod_files(&table_store, &blobs, "acme", day(1)).await.unwrap(), 1);
        assert_eq!(blobs.list("pod/acme/").await.unwrap(), [kept]);
        // 365 days after it was stored its record has expired: both go.
        assert_eq!(expire_pod_files(&table_store, &blobs, "acme", day(365)).await.unwrap(), 1);
        assert_eq!(blobs.list("pod/acme/").await.unwrap(), Vec::<String>::new());
        assert_eq!(crate::repo::tracking::pod_files(&table, "fedex", "1Z1").await.unwrap(), Vec::new());
        assert_eq!(blobs.list("pod/globex/").await.unwrap(), [other], "another tenant's files are its own job's");
        let _ = std::fs::remove_dir_all(&root);
    }
}
