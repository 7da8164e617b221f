//! The reconciliation job end to end on moto: orders routed over DynamoDB (their quotes stored by the router),
//! tracking numbers given through the tracking API, a carrier invoice dropped into the S3 inbox, and the job as
//! its Lambda main builds it: what it finds, its totals, the dispute file in S3, and a second run that changes
//! nothing.

use std::sync::Arc;

use lastmile_core::reconcile::check::Kind;
use lastmile_fn_reconcile::{Ports, dispute_key, inbox_prefix, run};
use lastmile_platform::aws::s3::S3Blobs;
use lastmile_platform::ports::clock::Clock;
use lastmile_platform::ports::table::TenantTable;
use lastmile_platform::repo::invoices;
use lastmile_platform::repo::shipments::{self, QuotedFacts};

use crate::tracking::{assign_tracking_number, deployment, routed_anchorage_order};

/// The charge descriptions of the `example-parcel-us` layout, by rate-card code (shared/data/invoices/layouts.toml).
fn description(code: &str) -> &'static str {
    match code {
        "base" => "Ground Commercial",
        "residential" => "Residential Surcharge",
        "remote_area" => "Delivery Area Surcharge - Extended",
        "additional_handling" => "Additional Handling - Dimensions",
        "peak" => "Peak Surcharge",
        other => panic!("the layout has no description for {other}"),
    }
}

/// One CSV row per charge, in the layout's units: pounds to two places, sides in whole inches (rounded down, so
/// the measured parcel is never bigger than the quoted one).
fn rows(number: &str, quoted: &QuotedFacts, extra_on_base: i64) -> Vec<String> {
    let pounds = quoted.grams as f64 / 453.592_37;
    let [l, w, h] = quoted.dimensions_mm.unwrap_or([0, 0, 0]).map(|mm| mm * 10 / 254);
    quoted
        .charges
        .iter()
        .map(|(code, minor)| {
            let minor = if code == "base" { minor + extra_on_base } else { *minor };
            let amount = format!("{}.{:02}", minor / 100, minor % 100);
            format!(
                "INV-AK-0001,2026-11-23,A1B2C3,{number},2026-11-16,Ground,{pounds:.2},{l},{w},{h},{},{amount}",
                description(code)
            )
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs moto_server from scripts/python-env; scripts/test runs it"]
async fn an_invoice_in_the_s3_inbox_is_reconciled_against_dynamodb_once() {
    let d = deployment("reconcile").await;
    let table = TenantTable::new(&*d.table, "acme");
    let mut quotes = Vec::new();
    for (order, number) in [("6001", "794600006001"), ("6002", "794600006002")] {
        let shipment = routed_anchorage_order(&d, order).await;
        assign_tracking_number(&d, &shipment, "fedex", number).await;
        let record = shipments::get(&table, &shipment).await.unwrap().unwrap().value;
        quotes.push((number, record.quoted.expect("the router keeps what it quoted")));
    }
    let (first, second) = (&quotes[0], &quotes[1]);
    let total = |q: &QuotedFacts| q.charges.values().sum::<i64>();

    // The first parcel's base charge is billed $2.50 over its quote; the second is billed as quoted, twice; and a
    // number no shipment has is billed $12.20.
    let header = "Invoice Number,Invoice Date,Account,Tracking Number,Ship Date,Service,Billed Weight,Length,Width,Height,Charge Description,Net Amount";
    let mut lines = vec![header.to_owned()];
    lines.extend(rows(first.0, &first.1, 250));
    lines.extend(rows(second.0, &second.1, 0));
    lines.extend(rows(second.0, &second.1, 0));
    lines.push(
        "INV-AK-0001,2026-11-23,A1B2C3,1ZUNKNOWN000000099,2026-11-16,Ground,2.00,6,6,6,Ground Commercial,12.20".into(),
    );
    let invoice = lines.join("\n") + "\n";

    // The job as its Lambda main builds it, over the same bucket the inbox is in.
    let ports = Ports { table: d.table.clone(), blobs: Arc::new(S3Blobs::new(d.s3.clone(), &d.bucket)) };
    let inbox = format!("{}example-parcel-us/INV-AK-0001.csv", inbox_prefix("acme"));
    ports.blobs.put(&inbox, invoice.as_bytes(), "text/csv").await.unwrap();
    let acme = d.registry.tenant("acme").unwrap();
    let report = run(&ports, &acme, d.clock.now()).await.unwrap();
    assert_eq!(report.processed.len(), 1, "{report:?}");

    let stored = invoices::recent(&table, 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    let record = &stored[0];
    let found: Vec<(Kind, &str, i64, bool)> =
        record.discrepancies.iter().map(|x| (x.kind, x.tracking_number.as_str(), x.amount, x.disputed)).collect();
    // The line has no tolerance of its own: the $2.50 is over it. The repeated rows are one duplicate of the second
    // parcel's whole bill; the unknown number is disputed in full.
    assert_eq!(
        found,
        [
            (Kind::Overcharge, first.0, 250, true),
            (Kind::Duplicate, second.0, total(&second.1), true),
            (Kind::UnknownTrackingNumber, "1ZUNKNOWN000000099", 1220, true),
        ]
    );
    let t = record.totals;
    assert_eq!(t.billed, total(&first.1) + 250 + 2 * total(&second.1) + 1220);
    assert_eq!(t.quoted, total(&first.1) + total(&second.1));
    assert_eq!(t.disputed, 250 + total(&second.1) + 1220);

    // The dispute file is in S3: a header and the three disputed lines.
    let key = dispute_key("acme", "INV-AK-0001", &record.content_hash);
    let csv = String::from_utf8(ports.blobs.get(&key).await.unwrap().expect("the dispute file")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 3, "{csv}");
    assert!(csv.contains(",1ZUNKNOWN000000099,") && csv.contains(",unknown_tracking_number,"), "{csv}");

    // Run again: nothing new; the same bytes under another name are the same file.
    let again = run(&ports, &acme, d.clock.now()).await.unwrap();
    assert_eq!((again.processed.len(), again.already_processed), (0, 1));
    let copy = format!("{}example-parcel-us/copy.csv", inbox_prefix("acme"));
    ports.blobs.put(&copy, invoice.as_bytes(), "text/csv").await.unwrap();
    let third = run(&ports, &acme, d.clock.now()).await.unwrap();
    assert_eq!((third.processed.len(), third.already_processed), (0, 2));
    assert_eq!(invoices::recent(&table, 10).await.unwrap(), stored);

    // The shop's erasure reaches the invoice files: they are in the tenant's folders.
    let folders = lastmile_platform::privacy::blobs::tenant_folders("acme");
    for file in [&inbox, &copy, &key] {
        assert!(folders.iter().any(|f| file.starts_with(f.as_str())), "{file} is outside {folders:?}");
    }
}
