//! The reconciliation job over the embedded store and a filesystem blob store: the fixtures' invoices dropped in
//! the inbox against shipments quoted as the core's tests quote them, each file once, duplicates across files,
//! and the dispute file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use jiff::Timestamp;
use jiff::civil::date;
use lastmile_core::reconcile::check::Kind;
use lastmile_core::reconcile::layout::{BUILTIN, Layouts};
use lastmile_fn_reconcile::api::{InvoicesApi, router};
use lastmile_fn_reconcile::{Ports, Report, dispute_key, run, run_with};
use lastmile_platform::config::TenantConfig;
use lastmile_platform::embedded::blob::FsBlobStore;
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::ports::clock::ManualClock;
use lastmile_platform::ports::table::{Condition, TenantTable};
use lastmile_platform::repo;
use lastmile_platform::repo::invoices::{self, InvoiceRecord};
use lastmile_platform::repo::shipments::{QuotedFacts, ShipmentRecord};
use lastmile_platform::repo::tracking::TrackingNumberRecord;
use lastmile_platform::tenants::TenantContext;
use serde_json::Value;
use tower::ServiceExt;

const US: &str = include_str!("../../../shared/data/invoices/example-parcel-us.csv");
const UK: &str = include_str!("../../../shared/data/invoices/example-courier-uk.csv");

struct Setup {
    ports: Ports,
    tenant: TenantConfig,
    dir: std::path::PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn now() -> Timestamp {
    "2026-11-10T06:00:00Z".parse().unwrap()
}

async fn setup(name: &str) -> Setup {
    let dir = std::env::temp_dir().join(format!("lastmile-reconcile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let clock = Arc::new(ManualClock::new(now()));
    let db = Arc::new(redb::Database::create(dir.join("state.redb")).unwrap());
    let table = Arc::new(EmbeddedTable::on(db, clock).unwrap());
    let blobs = Arc::new(FsBlobStore::new(dir.join("blobs")));
    let s = Setup { ports: Ports { table, blobs }, tenant: TenantConfig::sample("acme"), dir };
    // The US fixture's shipments as quoted: 2200 g in a 10 × 8 × 6 in box (254 × 203 × 152 mm), zone 5, $17.90.
    for number in ["1ZDIM0000000000001", "1ZOVR0000000000002", "1ZRES0000000000003", "1ZDUP0000000000004"] {
        shipment(&s, "fedex", number, "us-national-ground", "5", 2200, [254, 203, 152], &[("base", 1790)], "USD").await;
    }
    // The UK fixture's: 1.2 kg in 30 × 20 × 10 cm, £3.89; the third one to a remote area, +£4.95.
    for number in ["H01DIM00000001", "H01OVR00000002"] {
        shipment(&s, "parcelnet", number, "gb-courier-economy", "UK", 1200, [300, 200, 100], &[("base", 389)], "GBP")
            .await;
    }
    let remote = [("base", 389), ("remote_area", 495)];
    shipment(&s, "parcelnet", "H01REM00000003", "gb-courier-economy", "UK", 1200, [300, 200, 100], &remote, "GBP")
        .await;
    s
}

#[allow(clippy::too_many_arguments)]
async fn shipment(
    s: &Setup,
    carrier: &str,
    number: &str,
    line: &str,
    zone: &str,
    grams: u64,
    mm: [u32; 3],
    charges: &[(&str, i64)],
    currency: &str,
) {
    let table = TenantTable::new(s.ports.table.as_ref(), "acme");
    let id = format!("shp-{number}");
    let record = ShipmentRecord {
        id: id.clone(),
        order_id: id.clone(),
        warehouse: "us-nj".into(),
        line: line.into(),
        carrier: carrier.into(),
        lane: "us-nj>US".into(),
        units: Vec::new(),
        cost_minor: Some(charges.iter().map(|(_, m)| m).sum()),
        currency: currency.into(),
        quoted_transit_days: Some(3),
        promised_days: 5,
        decided_at: now(),
        experiment: None,
        outcome: None,
        rating: None,
        quoted: Some(QuotedFacts {
            zone: zone.into(),
            ship_date: date(2026, 11, 2),
            grams,
            billable: 0,
            dimensions_mm: Some(mm),
            residential: Some(false),
            remote_area: charges.iter().any(|(code, _)| *code == "remote_area"),
            postcode: "10001".into(),
            options: Vec::new(),
            charges: charges.iter().map(|(code, minor)| ((*code).to_owned(), *minor)).collect(),
            currency: currency.into(),
        }),
    };
    repo::save(&table, &record, Condition::NotExists).await.unwrap();
    let number = TrackingNumberRecord { carrier: carrier.into(), tracking_number: number.into(), shipment_id: id };
    repo::save(&table, &number, Condition::NotExists).await.unwrap();
}

async fn drop_file(s: &Setup, layout: &str, name: &str, text: &str) {
    s.ports.blobs.put(&format!("invoices/inbox/acme/{layout}/{name}"), text.as_bytes(), "text/csv").await.unwrap();
}

async fn job(s: &Setup) -> Report {
    run(&s.ports, &s.tenant, now()).await.unwrap()
}

async fn stored(s: &Setup) -> Vec<InvoiceRecord> {
    let table = TenantTable::new(s.ports.table.as_ref(), "acme");
    invoices::recent(&table, 100).await.unwrap()
}

fn found(record: &InvoiceRecord, tracking: &str) -> Vec<(Kind, String, i64, bool)> {
    record
        .discrepancies
        .iter()
        .filter(|d| d.tracking_number == tracking)
        .map(|d| (d.kind, d.charge.clone(), d.amount, d.disputed))
        .collect()
}

#[tokio::test]
async fn the_us_invoice_is_reconciled_against_the_stored_quotes_once() {
    let s = setup("us").await;
    drop_file(&s, "example-parcel-us", "INV-US-0001.csv", US).await;
    let first = job(&s).await;
    assert_eq!(first.processed.len(), 1);
    let record = &stored(&s).await[0];
    assert_eq!(record.invoice_number, "INV-US-0001");
    // Dimensional weight: billed for 16 × 12 × 12 in, 2304 in³ / 139 = 16.576 lb → 17 lb, the 20 lb bracket of zone 5
    // is $39.80; against the quoted $17.90 the difference 3980 − 1790 = 2190 is accepted.
    assert_eq!(found(record, "1ZDIM0000000000001"), [(Kind::WeightAdjustment, "base".into(), 2190, false)]);
    // $18.40 against $17.90: 50 over a tolerance of max(25, 1 % of 1790) = 25.
    assert_eq!(found(record, "1ZOVR0000000000002"), [(Kind::Overcharge, "base".into(), 50, true)]);
    assert_eq!(
        found(record, "1ZRES0000000000003"),
        [
            (Kind::SurchargeNotQuoted, "residential".into(), 595, true),
            (Kind::SurchargeNotQuoted, "additional_handling".into(), 3150, true),
        ]
    );
    assert_eq!(found(record, "1ZDUP0000000000004"), [(Kind::Duplicate, "total".into(), 1790, true)]);
    // No shipment has 1ZUNK…5: its $12.20 disputed in full.
    assert_eq!(found(record, "1ZUNK0000000000005"), [(Kind::UnknownTrackingNumber, "total".into(), 1220, true)]);
    // Billed 3980 + 1840 + (1790 + 595 + 3150) + 1790 + 1790 + 1220 = 16155; quoted 4 × 1790 = 7160;
    // disputed 50 + 595 + 3150 + 1790 + 1220 = 6805; accepted 2190.
    let t = record.totals;
    assert_eq!((t.billed, t.quoted, t.disputed, t.accepted_adjustments), (16155, 7160, 6805, 2190));

    // The dispute file: a header and the five disputed charges in file order.
    let key = dispute_key("acme", "INV-US-0001", &record.content_hash);
    assert_eq!(record.dispute_key.as_deref(), Some(key.as_str()));
    assert!(key.starts_with("invoices/disputes/acme/INV-US-0001-") && key.ends_with(".csv"), "{key}");
    let csv = String::from_utf8(s.ports.blobs.get(&key).await.unwrap().unwrap()).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 6, "{csv}");
    assert_eq!(lines[0], "invoice,tracking_number,file_line,kind,charge,billed,expected,disputed,currency,reason");
    assert!(lines[1].starts_with("INV-US-0001,1ZOVR0000000000002,3,overcharge,base,18.40,17.90,0.50,USD,"));
    assert!(lines[5].starts_with("INV-US-0001,1ZUNK0000000000005,9,unknown_tracking_number,total,12.20,0.00,12.20"));

    // A second run changes nothing; the same bytes dropped under another name are not processed again.
    let before = stored(&s).await;
    assert_eq!(job(&s).await, Report { already_processed: 1, ..Report::default() });
    drop_file(&s, "example-parcel-us", "copy-of-INV-US-0001.csv", US).await;
    let third = job(&s).await;
    assert!(third.processed.is_empty());
    assert_eq!(third.already_processed, 2);
    assert_eq!(stored(&s).await, before);
}

#[tokio::test]
async fn a_line_billed_again_in_a_later_file_is_a_duplicate() {
    let s = setup("uk").await;
    drop_file(&s, "example-courier-uk", "UK-7781.csv", UK).await;
    job(&s).await;
    // A later invoice bills the remote parcel again, £3.89 + £4.95 = £8.84, and nothing else.
    let later: String = UK
        .replace("UK-7781", "UK-7790")
        .lines()
        .enumerate()
        .filter(|(i, _)| *i == 0 || *i == 3)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    drop_file(&s, "example-courier-uk", "UK-7790.csv", &later).await;
    let report = job(&s).await;
    assert_eq!((report.processed.len(), report.already_processed), (1, 1));
    let second = stored(&s).await.into_iter().find(|r| r.invoice_number == "UK-7790").unwrap();
    assert_eq!(found(&second, "H01REM00000003"), [(Kind::Duplicate, "total".into(), 884, true)]);
    assert_eq!((second.totals.billed, second.totals.quoted, second.totals.disputed), (884, 0, 884));
    // The first file: 40 × 30 × 20 cm = 24000 cm³ / 5000 = 4.8 kg → 5 kg, £5.49 against £3.89 quoted: 160 accepted;
    // £4.09 against £3.89 is 20 over a flat 10p tolerance: 20 disputed.
    let first = stored(&s).await.into_iter().find(|r| r.invoice_number == "UK-7781").unwrap();
    assert_eq!(found(&first, "H01DIM00000001"), [(Kind::WeightAdjustment, "base".into(), 160, false)]);
    assert_eq!(found(&first, "H01OVR00000002"), [(Kind::Overcharge, "base".into(), 20, true)]);
    assert!(found(&first, "H01REM00000003").is_empty());
}

#[tokio::test]
async fn unreadable_files_are_recorded_once_and_unknown_folders_left_alone() {
    let s = setup("bad").await;
    drop_file(&s, "example-courier-uk", "broken.csv", "Invoice,Carriage\nX,1.00\n").await;
    drop_file(&s, "no-such-layout", "x.csv", UK).await;
    let report = job(&s).await;
    assert_eq!(report.unknown_layout, ["invoices/inbox/acme/no-such-layout/x.csv"]);
    assert_eq!(report.processed.len(), 1);
    let error = report.processed[0].error.as_deref().unwrap();
    assert!(error.contains("Consignment No"), "{error}");
    let again = job(&s).await;
    assert!(again.processed.is_empty());
    assert_eq!(again.already_processed, 1);
    // Nothing else was written: no billed lines, no dispute file.
    assert!(s.ports.blobs.list("invoices/disputes/").await.unwrap().is_empty());
}

async fn get(s: &Setup, uri: &str) -> (StatusCode, String, String) {
    let api = Arc::new(InvoicesApi { table: s.ports.table.clone(), blobs: s.ports.blobs.clone() });
    let context = TenantContext { tenant: Arc::new(s.tenant.clone()), key_id: "k".into() };
    let app = router::<()>(api).layer(axum::Extension(context));
    let response = app.oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn the_api_lists_files_shows_discrepancies_and_serves_the_dispute_file() {
    let s = setup("api").await;
    drop_file(&s, "example-parcel-us", "INV-US-0001.csv", US).await;
    job(&s).await;
    let (status, _, body) = get(&s, "/v1/invoices").await;
    assert_eq!(status, StatusCode::OK);
    let listing: Value = serde_json::from_str(&body).unwrap();
    let file = &listing["invoices"][0];
    assert_eq!(file["invoice_number"], "INV-US-0001");
    assert_eq!(file["totals"]["disputed"], 6805);
    let hash = file["content_hash"].as_str().unwrap().to_owned();
    // Kinds in the core's order, with counts and amounts: 50; 595 + 3150; 1790; 1220; 2190 accepted.
    let kinds: Vec<(String, u64, i64)> = file["by_kind"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kind"].as_str().unwrap().to_owned(), k["count"].as_u64().unwrap(), k["amount"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("overcharge".into(), 1, 50),
            ("surcharge_not_quoted".into(), 2, 3745),
            ("duplicate".into(), 1, 1790),
            ("unknown_tracking_number".into(), 1, 1220),
            ("weight_adjustment".into(), 1, 2190)
        ]
    );

    let (status, _, body) = get(&s, &format!("/v1/invoices/{hash}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let detail: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(detail["discrepancies"].as_array().unwrap().len(), 6);
    let hex = hash.trim_start_matches("sha256:");
    assert_eq!(detail["dispute_url"], format!("/v1/invoices/{hex}/dispute"));
    let (status, content_type, csv) = get(&s, &format!("/v1/invoices/{hex}/dispute")).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::OK, "text/csv; charset=utf-8"));
    assert_eq!(csv.lines().count(), 6);

    // Unknown and malformed hashes are JSON errors.
    let unknown = "0".repeat(64);
    for uri in [format!("/v1/invoices/{unknown}"), format!("/v1/invoices/sha256:{unknown}/dispute")] {
        let (status, content_type, body) = get(&s, &uri).await;
        assert_eq!((status, content_type.as_str()), (StatusCode::NOT_FOUND, "application/json"), "{uri}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["code"], "invoice_not_found");
    }
    let (status, _, body) = get(&s, "/v1/invoices/not-a-hash").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["field"], "hash");
}

#[tokio::test]
async fn the_layouts_tracking_carriers_decide_where_numbers_are_looked_up() {
    let s = setup("carriers").await;
    drop_file(&s, "example-parcel-us", "INV-US-0001.csv", US).await;
    // The same file with the parcel carrier's numbers looked up under another tracking carrier: no shipment has
    // them, so every line is unknown and disputed in full (16155, the file's total).
    let elsewhere = Layouts::from_toml(&BUILTIN.replacen(
        r#"tracking_carriers = ["fedex"]"#,
        r#"tracking_carriers = ["parcelnet"]"#,
        1,
    ))
    .unwrap();
    run_with(&s.ports, &s.tenant, now(), &elsewhere).await.unwrap();
    let record = &stored(&s).await[0];
    assert!(record.discrepancies.iter().all(|d| matches!(d.kind, Kind::UnknownTrackingNumber | Kind::Duplicate)));
    assert_eq!((record.totals.quoted, record.totals.disputed), (0, 16155));
}

#[tokio::test]
async fn a_run_that_died_after_storing_the_billed_lines_finishes_the_file_without_duplicates() {
    let s = setup("resume").await;
    drop_file(&s, "example-courier-uk", "UK-7781.csv", UK).await;
    // The earlier run stored the remote parcel's line (£3.89 + £4.95 = 884) under this file's hash, then died.
    let hash = lastmile_core::reconcile::layout::content_hash(UK.as_bytes());
    let table = TenantTable::new(s.ports.table.as_ref(), "acme");
    let line = invoices::BilledLineRecord {
        carrier: "Example Courier UK".into(),
        billed_key: "H01REM00000003|884".into(),
        content_hash: hash.clone(),
        invoice_number: "UK-7781".into(),
    };
    repo::save(&table, &line, Condition::NotExists).await.unwrap();
    let report = job(&s).await;
    assert_eq!(report.processed.len(), 1);
    let record = &stored(&s).await[0];
    assert_eq!(record.content_hash, hash);
    assert!(found(record, "H01REM00000003").is_empty(), "{:?}", record.discrepancies);
    // Billed 549 + 409 + 884 = 1842; disputed only the 20 over on H01OVR.
    assert_eq!((record.totals.billed, record.totals.disputed), (1842, 20));
}
