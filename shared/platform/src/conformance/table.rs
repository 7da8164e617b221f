//! What every [`TableStore`] must do. Keys are made unique per run from `run`, so the suite can run against a
//! shared table.

use serde_json::{Map, Value, json};

use super::check;
use crate::ports::table::{Condition, Item, Key, Query, SkRange, StoreError, TableStore, TenantTable, Write};

fn attributes(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn fail(what: &str) -> impl Fn(StoreError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// Conditional writes with versions, key-range and index queries with paging, transactions, tenant isolation
/// and the expiry attribute (stored and read back; whether the store deletes expired items is
/// [`table_expiry`]'s concern).
pub async fn table_suite(store: &dyn TableStore, run: &str) -> Result<(), String> {
    let pk = format!("{run}#orders");
    let key = Key::new(&pk, "order#1001");

    // Create once; a second create is refused.
    let order = Item::new(key.clone(), attributes(json!({"status": "new", "total": 4200, "lines": [{"sku": "A"}]})));
    let v1 = store.put(order.clone(), Condition::NotExists).await.map_err(fail("create"))?;
    check!(v1 == 1, "a new item has version 1, got {v1}");
    let again = store.put(order.clone(), Condition::NotExists).await;
    check!(again == Err(StoreError::ConditionFailed), "a second create must fail its condition, got {again:?}");

    // Read back what was written, JSON and all.
    let read = store.get(&key).await.map_err(fail("get"))?.ok_or("the created item is missing")?;
    check!(read.attributes == order.attributes, "attributes round-trip: {:?}", read.attributes);
    check!(read.version == 1, "read version {}", read.version);

    // Optimistic concurrency: update at the version read; a writer holding the old version loses.
    let mut update = read.clone();
    update.attributes.insert("status".into(), json!("routed"));
    let v2 = store.put(update.clone(), Condition::Version(1)).await.map_err(fail("update at version 1"))?;
    check!(v2 == 2, "an update bumps the version to 2, got {v2}");
    let stale = store.put(update.clone(), Condition::Version(1)).await;
    check!(stale == Err(StoreError::ConditionFailed), "a stale version must fail, got {stale:?}");
    let missing = store.put(Item::new(Key::new(&pk, "order#none"), Map::new()), Condition::Version(1)).await;
    check!(missing == Err(StoreError::ConditionFailed), "a versioned write of a missing item must fail");

    // Key-range queries in sort order, with paging.
    for n in 2..=6 {
        let item = Item::new(Key::new(&pk, format!("order#100{n}")), attributes(json!({"n": n})))
            .with_index("gsi1", Key::new(format!("{run}#status#new"), format!("2026-12-0{n}")));
        store.put(item, Condition::Always).await.map_err(fail("put order"))?;
    }
    store.put(Item::new(Key::new(&pk, "profile"), Map::new()), Condition::Always).await.map_err(fail("put"))?;
    let all = store.query(&Query::partition(&pk).sk(SkRange::Prefix("order#".into()))).await.map_err(fail("query"))?;
    let sks: Vec<&str> = all.items.iter().map(|i| i.key.sk.as_str()).collect();
    check!(
        sks == ["order#1001", "order#1002", "order#1003", "order#1004", "order#1005", "order#1006"],
        "prefix query in sort order, got {sks:?}"
    );
    let first = store.query(&Query::partition(&pk).sk(SkRange::Prefix("order#".into())).limit(4)).await;
    let first = first.map_err(fail("first page"))?;
    check!(first.items.len() == 4 && first.next.is_some(), "first page of 4 with a continuation");
    let mut rest_query = Query::partition(&pk).sk(SkRange::Prefix("order#".into())).limit(4);
    rest_query.after = first.next.clone();
    let rest = store.query(&rest_query).await.map_err(fail("second page"))?;
    let rest_sks: Vec<&str> = rest.items.iter().map(|i| i.key.sk.as_str()).collect();
    check!(rest_sks == ["order#1005", "order#1006"], "second page continues after the first, got {rest_sks:?}");
    let between = Query::partition(&pk).sk(SkRange::Between("order#1002".into(), "order#1004".into()));
    let between = store.query(&between).await.map_err(fail("between"))?;
    check!(between.items.len() == 3, "between is inclusive: 3 items, got {}", between.items.len());
    let mut backwards = Query::partition(&pk).sk(SkRange::Prefix("order#".into())).limit(1);
    backwards.descending = true;
    let last = store.query(&backwards).await.map_err(fail("descending"))?;
    check!(
        last.items.first().map(|i| i.key.sk.as_str()) == Some("order#1006"),
        "descending starts at the highest sort key"
    );

    // Secondary index: by its own keys, in its sort order, pointing at the table items.
    let by_status = Query::index("gsi1", format!("{run}#status#new"))
        .sk(SkRange::Between("2026-12-03".into(), "2026-12-05".into()));
    let by_status = store.query(&by_status).await.map_err(fail("index query"))?;
    let indexed: Vec<&str> = by_status.items.iter().map(|i| i.key.sk.as_str()).collect();
    check!(indexed == ["order#1003", "order#1004", "order#1005"], "index range query, got {indexed:?}");
    // Moving an item out of the index removes its entry.
    let moved = Item::new(Key::new(&pk, "order#1004"), attributes(json!({"n": 4})))
        .with_index("gsi1", Key::new(format!("{run}#status#routed"), "2026-12-04"));
    store.put(moved, Condition::Always).await.map_err(fail("re-index"))?;
    let by_status = Query::index("gsi1", format!("{run}#status#new"));
    let still_new = store.query(&by_status).await.map_err(fail("index after move"))?;
    check!(
        still_new.items.iter().all(|i| i.key.sk != "order#1004"),
        "an item moved to another index key leaves the old one"
    );

    // Transactions: all or nothing.
    let a = Key::new(format!("{run}#inventory"), "sku#A@us-nj");
    let b = Key::new(format!("{run}#inventory"), "sku#B@us-nj");
    store
        .transact(vec![
            Write::Put {
                item: Item::new(a.clone(), attributes(json!({"on_hand": 5}))),
                condition: Condition::NotExists,
            },
            Write::Put {
                item: Item::new(b.clone(), attributes(json!({"on_hand": 1}))),
                condition: Condition::NotExists,
            },
        ])
        .await
        .map_err(fail("transaction"))?;
    let cancelled = store
        .transact(vec![
            Write::Put {
                item: Item::new(a.clone(), attributes(json!({"on_hand": 4}))),
                condition: Condition::Version(1),
            },
            Write::Put {
                item: Item::new(b.clone(), attributes(json!({"on_hand": 0}))),
                condition: Condition::Version(7),
            },
        ])
        .await;
    check!(
        matches!(cancelled, Err(StoreError::TransactionCancelled(_))),
        "a transaction with a failing condition is cancelled, got {cancelled:?}"
    );
    let a_now = store.get(&a).await.map_err(fail("get a"))?.ok_or("a is missing")?;
    check!(a_now.attributes.get("on_hand") == Some(&json!(5)), "a cancelled transaction wrote nothing");
    store
        .transact(vec![
            Write::Delete { key: b.clone(), condition: Condition::Version(1) },
            Write::Put {
                item: Item::new(a.clone(), attributes(json!({"on_hand": 4}))),
                condition: Condition::Version(1),
            },
        ])
        .await
        .map_err(fail("delete and put"))?;
    check!(store.get(&b).await.map_err(fail("get b"))?.is_none(), "the transaction deleted b");

    // Delete with a condition.
    let refused = store.delete(&key, Condition::Version(1)).await;
    check!(refused == Err(StoreError::ConditionFailed), "delete at a stale version must fail");
    store.delete(&key, Condition::Version(2)).await.map_err(fail("delete"))?;
    check!(store.get(&key).await.map_err(fail("get deleted"))?.is_none(), "deleted item is gone");

    // The expiry attribute is stored and read back.
    let expiring = Item::new(Key::new(format!("{run}#dedup"), "evt-1"), Map::new()).expiring_at(4_102_444_800);
    store.put(expiring, Condition::NotExists).await.map_err(fail("put expiring"))?;
    let back = store.get(&Key::new(format!("{run}#dedup"), "evt-1")).await.map_err(fail("get expiring"))?;
    check!(back.and_then(|i| i.expires_at) == Some(4_102_444_800), "the expiry attribute round-trips");

    tenant_isolation(store, run).await?;
    scan_by_prefix(store, run).await
}

/// A tenant's every item by partition-key prefix, page by page, without a neighbour whose id starts alike.
async fn scan_by_prefix(store: &dyn TableStore, run: &str) -> Result<(), String> {
    let mine = format!("{run}-scan#");
    let neighbour = format!("{run}-scanner#");
    let mut expected = Vec::new();
    for n in 0..5 {
        let key = Key::new(format!("{mine}order#{n}"), if n % 2 == 0 { "order" } else { "personal#order" });
        let item = Item::new(key.clone(), attributes(json!({"n": n})));
        store.put(item, Condition::Always).await.map_err(fail("put scanned"))?;
        expected.push(key);
    }
    store
        .put(Item::new(Key::new(format!("{neighbour}order#0"), "order"), Map::new()), Condition::Always)
        .await
        .map_err(fail("put neighbour"))?;
    let gone = Item::new(Key::new(format!("{mine}dedup"), "evt-0"), Map::new()).expiring_at(1);
    store.put(gone, Condition::Always).await.map_err(fail("put expired"))?;
    let mut found = Vec::new();
    let mut after: Option<Key> = None;
    // Bounded, so a store whose continuation never ends fails the suite instead of hanging it.
    for _ in 0..10_000 {
        let page = store.scan_prefix(&mine, after.as_ref(), 2).await.map_err(fail("scan"))?;
        check!(page.items.len() <= 2, "a scan page holds at most its limit, got {}", page.items.len());
        found.extend(page.items.into_iter().map(|i| i.key));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    found.sort();
    expected.sort();
    check!(found == expected, "a prefix scan finds exactly the prefix's live items, got {found:?}");
    Ok(())
}

/// Two tenants writing the same keys through their views never see each other's items.
async fn tenant_isolation(store: &dyn TableStore, run: &str) -> Result<(), String> {
    let acme = TenantTable::new(store, &format!("{run}-acme"));
    let globex = TenantTable::new(store, &format!("{run}-globex"));
    let key = Key::new("orders", "order#1");
    acme.put(Item::new(key.clone(), attributes(json!({"owner": "acme"}))), Condition::NotExists)
        .await
        .map_err(fail("acme put"))?;
    check!(globex.get(&key).await.map_err(fail("globex get"))?.is_none(), "globex must not read acme's order");
    globex
        .put(Item::new(key.clone(), attributes(json!({"owner": "globex"}))), Condition::NotExists)
        .await
        .map_err(fail("globex put"))?;
    let mine = acme.get(&key).await.map_err(fail("acme get"))?.ok_or("acme's order is missing")?;
    check!(mine.attributes.get("owner") == Some(&json!("acme")), "acme reads its own order");
    check!(mine.key == key, "keys come back without the tenant prefix: {:?}", mine.key);
    let listed = globex.query(&Query::partition("orders")).await.map_err(fail("globex query"))?;
    check!(
        listed.items.len() == 1 && listed.items[0].attributes.get("owner") == Some(&json!("globex")),
        "a tenant's query lists only its own items"
    );
    Ok(())
}
