//! The registry of personal data: what each repository stores that is about a person, where, why, and for how
//! long. Each repository declares its own ([`crate::repo::orders::PERSONAL`] …) and this table lists them, so a
//! capability that stores personal data (tracking, proof of delivery, returns, claims) adds one declaration here
//! and gets retention, export and erasure with the rest. docs/privacy.md is the table in words.

use jiff::Timestamp;

use crate::repo::{decisions, orders, returns, shipments, tracking};

use super::blobs;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declaration {
    /// The personal item's kind (its sort key is `personal#{kind}`), or a blob kind.
    pub kind: &'static str,
    /// The repository whose records it belongs to (`orders`, `decisions`, `shipments`), or `blobs`.
    pub record: &'static str,
    /// What is personal in it: JSON pointers into the stored data, or words where it is free text.
    pub fields: &'static [&'static str],
    pub purpose: &'static str,
    /// Days it is kept from when it was stored; then the store's TTL (or the blob expiry) removes it.
    pub retention_days: u32,
}

impl Declaration {
    /// Unix seconds at which data of this kind stored at `now` expires.
    pub fn expiry(&self, now: Timestamp) -> i64 {
        now.as_second() + i64::from(self.retention_days) * 86_400
    }
}

/// Every declaration, one per kind.
pub static REGISTRY: &[&Declaration] = &[
    &orders::PERSONAL,
    &decisions::PERSONAL,
    &shipments::PERSONAL,
    &tracking::POD_PERSONAL,
    &returns::PERSONAL,
    &blobs::EXPORT,
    &blobs::CUSTOMER_FILES,
];

pub fn declaration(kind: &str) -> Option<&'static Declaration> {
    REGISTRY.iter().copied().find(|d| d.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::personal::PersonalRecord;

    #[test]
    fn kinds_are_unique_and_every_kind_expires() {
        let mut kinds: Vec<&str> = REGISTRY.iter().map(|d| d.kind).collect();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), REGISTRY.len());
        assert!(REGISTRY.iter().all(|d| d.retention_days > 0 && !d.fields.is_empty() && !d.purpose.is_empty()));
        assert_eq!(declaration("order"), Some(&orders::PERSONAL));
    }

    #[test]
    fn the_declared_retention_sets_the_expiry_written() {
        let now: Timestamp = "2026-12-04T10:00:00Z".parse().unwrap();
        let written = |declaration: &Declaration| {
            let record = PersonalRecord::new(declaration, "order#1", None, serde_json::json!({}), now);
            crate::repo::item(&record).unwrap().expires_at.unwrap()
        };
        let declared = written(&orders::PERSONAL);
        assert_eq!(declared, now.as_second() + i64::from(orders::PERSONAL.retention_days) * 86_400);
        let shorter = Declaration { retention_days: 7, ..orders::PERSONAL };
        assert_eq!(written(&shorter), now.as_second() + 7 * 86_400);
        assert_ne!(written(&shorter), declared);
    }
}
