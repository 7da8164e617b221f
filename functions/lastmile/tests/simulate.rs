//! `lastmile simulate` end to end on a short season: what `GET /v1/kpis` answers afterwards (computed by the
//! jobs from what went through the webhooks) against what this test works out itself from the raw stories the
//! run drew: which events reached lastmile by the end of the run, and what they say.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use axum::body::Body;
use http_body_util::BodyExt;
use jiff::civil::date;
use lastmile::simulation::{Run, SimulateOptions, run};
use lastmile_core::tracking::Status;
use lastmile_platform::tenants::TenantContext;
use serde_json::Value;
use tower::ServiceExt;

fn options(dir: &Path, seed: u64) -> SimulateOptions {
    SimulateOptions {
        data_dir: dir.to_owned(),
        tenant: "default".into(),
        start: date(2026, 11, 9),
        days: 8,
        orders_per_day: 10,
        seed,
    }
}

fn fresh(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lastmile-simulate-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `GET /v1/kpis` over the run's whole span (and the weeks its parcels take), as the tenant asks it.
async fn kpis(dir: &Path) -> Value {
    let prepared = lastmile::dev::prepare(dir).await.unwrap();
    let context = TenantContext { tenant: prepared.registry.tenant("default").unwrap(), key_id: "test".into() };
    let app = lastmile_fn_kpi::api::router(prepared.tracking.kpi.clone()).layer(axum::Extension(context));
    let request = axum::http::Request::get("/v1/kpis?from=2026-11-01&to=2027-01-15").body(Body::empty()).unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

/// Per line: (shipments, delivered, with an exception), from the stories alone.
fn expected(run: &Run) -> BTreeMap<String, (u64, u64, u64)> {
    let mut by_line: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for story in run.stories.values() {
        // Each event once, however often it was sent, if it was sent by the end and has a code in its carrier's
        // format (an event a carrier cannot express is never sent).
        let sent: BTreeSet<usize> = story
            .sends
            .iter()
            .filter(|s| s.at <= run.end)
            .map(|s| s.event)
            .filter(|&i| lastmile::simulate::render::code_for(&story.events[i].carrier, story.events[i].step).is_some())
            .collect();
        // A later leg's events count once the hand-over to its number was sent; before that they wait.
        let handed_over: BTreeSet<&str> = sent
            .iter()
            .filter_map(|&i| story.events[i].handover.as_ref().map(|h| h.tracking_number.as_str()))
            .collect();
        let first = story.tracking_numbers[0].as_str();
        let known: Vec<_> = sent
            .iter()
            .map(|&i| &story.events[i])
            .filter(|e| e.tracking_number == first || handed_over.contains(e.tracking_number.as_str()))
            .collect();
        if known.is_empty() {
            continue;
        }
        let latest = known.iter().max_by_key(|e| e.at).unwrap();
        let entry = by_line.entry(story.line.clone()).or_default();
        entry.0 += 1;
        entry.1 += u64::from(latest.status == Status::Delivered);
        entry.2 += u64::from(known.iter().any(|e| e.status == Status::Exception));
    }
    by_line
}

fn answered(kpis: &Value) -> BTreeMap<String, (u64, u64, u64)> {
    kpis["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let n = |k: &str| l[k].as_u64().unwrap();
            (l["line"].as_str().unwrap().to_owned(), (n("shipments"), n("delivered"), n("exceptions")))
        })
        .filter(|(_, counts)| counts.0 > 0)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_kpis_of_a_simulated_season_are_what_its_stories_say() {
    let dir = fresh("kpis");
    let season = run(&options(&dir, 7)).await.unwrap();
    assert!(season.summary.orders > 40, "{:?}", season.summary);
    assert_eq!(season.summary.shipments, season.stories.len());
    let want = expected(&season);
    let delivered: u64 = want.values().map(|c| c.1).sum();
    assert!(delivered > 10, "a season long enough to deliver: {want:?}");
    let kpis = kpis(&dir).await;
    assert_eq!(answered(&kpis), want);
    let total = &kpis["total"];
    assert_eq!(total["shipments"].as_u64().unwrap(), want.values().map(|c| c.0).sum::<u64>());
    assert_eq!(total["delivered"].as_u64().unwrap(), delivered);

    // Opened on a day before the season ended, the dashboard's default range ends at the newest roll-up.
    {
        let prepared = lastmile::dev::prepare(&dir).await.unwrap();
        let tenant = prepared.registry.tenant("default").unwrap();
        let early: jiff::Timestamp = "2026-11-10T12:00:00Z".parse().unwrap();
        let panels = lastmile::dashboard::tracking::load(prepared.table.as_ref(), &tenant, &BTreeMap::new(), early)
            .await
            .unwrap();
        assert!(panels.query.to > date(2026, 11, 10), "later than the day it was opened: {:?}", panels.query);
        assert!(panels.report.total.shipments > 0);
    }

    // The same seed again, into a fresh directory: the same answer. Another seed: another.
    let again = fresh("kpis-again");
    run(&options(&again, 7)).await.unwrap();
    assert_eq!(self::kpis(&again).await, kpis);
    let other = fresh("kpis-other");
    run(&options(&other, 8)).await.unwrap();
    assert_ne!(self::kpis(&other).await["total"], kpis["total"]);
    for d in [dir, again, other] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// The discrepancies the simulator says it planted, per invoice number: (kind, tracking number, charge, amount,
/// disputed), sorted; and (billed, disputed, accepted).
type Found = BTreeMap<String, (Vec<(String, String, String, i64, bool)>, (i64, i64, i64))>;

fn planted(dir: &Path) -> Found {
    let list: Value = serde_json::from_slice(&std::fs::read(lastmile::simulation::planted_path(dir)).unwrap()).unwrap();
    let mut out = Found::new();
    for invoice in list["invoices"].as_array().unwrap() {
        let mut found: Vec<_> = invoice["discrepancies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let s = |k: &str| d[k].as_str().unwrap().to_owned();
                (
                    s("kind"),
                    s("tracking_number"),
                    s("charge"),
                    d["amount"].as_i64().unwrap(),
                    d["disputed"].as_bool().unwrap(),
                )
            })
            .collect();
        found.sort();
        let n = |k: &str| invoice[k].as_i64().unwrap();
        out.insert(
            invoice["invoice_number"].as_str().unwrap().to_owned(),
            (found, (n("billed"), n("disputed"), n("accepted"))),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reconciliation_finds_exactly_the_discrepancies_planted_in_the_simulated_invoices() {
    let dir = fresh("invoices");
    let season = run(&options(&dir, 7)).await.unwrap();
    let want = planted(&dir);
    assert_eq!(season.summary.invoices, want.len());
    assert!(!want.is_empty(), "the season bills some of its shipments");
    // Two carriers' layouts: the postal line's row-per-charge file (lb/in) and the German parcel carrier's
    // row-per-parcel one (kg/cm).
    let layouts: BTreeSet<&str> = want.keys().map(|k| &k[..7]).collect();
    assert_eq!(layouts, BTreeSet::from(["SIM-ECD", "SIM-EPU"]));
    let kinds: BTreeSet<&str> = want.values().flat_map(|(d, _)| d.iter().map(|x| x.0.as_str())).collect();
    assert!(
        kinds.contains("overcharge") && kinds.contains("duplicate") && kinds.contains("unknown_tracking_number"),
        "{kinds:?}"
    );

    let prepared = lastmile::dev::prepare(&dir).await.unwrap();
    let tenant = prepared.registry.tenant("default").unwrap();
    let ports = lastmile::invoices::ports(&prepared);
    let report = lastmile_fn_reconcile::run(&ports, &tenant, season.end).await.unwrap();
    assert_eq!(report.processed.len(), want.len(), "{report:?}");
    let table = lastmile_platform::ports::table::TenantTable::new(prepared.table.as_ref(), "default");
    let stored = lastmile_platform::repo::invoices::recent(&table, 100).await.unwrap();
    let mut got = Found::new();
    for record in &stored {
        assert!(record.error.is_none(), "{:?}", record.error);
        let mut found: Vec<_> = record
            .discrepancies
            .iter()
            .map(|d| {
                let kind = serde_json::to_value(d.kind).unwrap().as_str().unwrap().to_owned();
                (kind, d.tracking_number.clone(), d.charge.clone(), d.amount, d.disputed)
            })
            .collect();
        found.sort();
        let t = record.totals;
        got.insert(record.invoice_number.clone(), (found, (t.billed, t.disputed, t.accepted_adjustments)));
    }
    assert_eq!(got, want);

    // Again: nothing new.
    let again = lastmile_fn_reconcile::run(&ports, &tenant, season.end).await.unwrap();
    assert!(again.processed.is_empty());
    assert_eq!(again.already_processed, want.len());
    assert_eq!(lastmile_platform::repo::invoices::recent(&table, 100).await.unwrap(), stored);
    drop(prepared);
    let _ = std::fs::remove_dir_all(dir);
}
