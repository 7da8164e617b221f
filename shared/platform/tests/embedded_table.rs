//! The table conformance suite against the embedded (redb) adapter, and the store surviving a reopen.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use lastmile_platform::conformance::table::table_suite;
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::ports::clock::SystemClock;
use lastmile_platform::ports::table::{Condition, Item, Key, TableStore};

fn path(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("lastmile-{name}-{}.redb", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[tokio::test]
async fn the_embedded_table_passes_the_conformance_suite() {
    let path = path("table-conformance");
    let table = EmbeddedTable::open(&path, Arc::new(SystemClock)).unwrap();
    table_suite(&table, "run1").await.unwrap();
    // The suite is repeatable on the same store with a new run id.
    table_suite(&table, "run2").await.unwrap();
    drop(table);
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn what_was_committed_is_there_after_a_reopen() {
    let path = path("table-reopen");
    {
        let table = EmbeddedTable::open(&path, Arc::new(SystemClock)).unwrap();
        let item = Item::new(Key::new("acme#orders", "order#1"), serde_json::Map::new());
        table.put(item, Condition::NotExists).await.unwrap();
    }
    let table = EmbeddedTable::open(&path, Arc::new(SystemClock)).unwrap();
    let item = table.get(&Key::new("acme#orders", "order#1")).await.unwrap().unwrap();
    assert_eq!(item.version, 1);
    drop(table);
    std::fs::remove_file(&path).unwrap();
}
