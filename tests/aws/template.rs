//! The template serves what the functions route: every route of the ingest and tracking functions is an HTTP API
//! event of the function that runs it in infra/template.yaml (no moto needed).

use std::collections::BTreeSet;

const TEMPLATE: &str = include_str!("../../infra/template.yaml");

/// `(function, METHOD, path)` of every HttpApi event in the template.
fn http_events() -> BTreeSet<(String, String, String)> {
    let mut events = BTreeSet::new();
    let mut function = String::new();
    for line in TEMPLATE.lines() {
        // Resources are the keys indented by two spaces.
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':'))
            && !name.starts_with(' ')
        {
            function = name.to_owned();
        }
        let Some(properties) = line.trim().strip_prefix("Properties: {ApiId: !Ref HttpApi, ") else { continue };
        let properties = properties.trim_end_matches('}');
        let (path, method) = properties.split_once(", Method: ").expect("Path, then Method");
        let path = path.trim_start_matches("Path: ").trim_matches('"');
        events.insert((function.clone(), method.to_owned(), path.to_owned()));
    }
    events
}

fn missing(function: &str, routes: Vec<lastmile_platform::http::RouteDoc>) -> Vec<String> {
    let events = http_events();
    routes
        .into_iter()
        // File links on AWS are presigned S3 URLs: a route serving files itself runs only in `lastmile dev`.
        .filter(|r| !r.path.starts_with("/pod-files"))
        .map(|r| (function.to_owned(), r.method.to_ascii_uppercase(), r.path.to_owned()))
        .filter(|event| !events.contains(event))
        .map(|(_, method, path)| format!("{method} {path}"))
        .collect()
}

#[test]
fn the_template_reads_every_route_event() {
    let events = http_events();
    assert!(events.contains(&("IngestFunction".into(), "POST".into(), "/webhooks/shopify".into())), "{events:?}");
    assert!(events.len() > 20, "{events:?}");
}

#[test]
fn every_ingest_route_is_an_event_of_the_ingest_function() {
    let mut routes = lastmile_fn_ingest::routes();
    routes.extend(lastmile_fn_ingest::carriers::routes());
    assert_eq!(missing("IngestFunction", routes), Vec::<String>::new());
}

#[test]
fn every_tracking_api_route_is_an_event_of_the_tracking_api_function() {
    assert_eq!(missing("TrackingApiFunction", lastmile_fn_tracking::api::routes()), Vec::<String>::new());
}

/// Every file the functions keep (POD files, labels, exports, returns, invoices) is in one bucket, the one the
/// privacy function erases from, so `customers/redact` and `shop/redact` reach them all on AWS as they do in the
/// local blob folder; each kind's retention is a lifecycle rule on its prefix (checked by infra/check_deploy.py).
#[test]
fn every_function_keeps_its_files_in_the_bucket_erasure_works_on() {
    let buckets = TEMPLATE.lines().filter(|l| l.trim() == "Type: AWS::S3::Bucket").count();
    assert_eq!(buckets, 1, "one bucket in the template");
    assert!(TEMPLATE.contains("        LASTMILE_ARCHIVE_BUCKET: !Ref ArchiveBucket"), "every function is given it");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
    let mut mains = Vec::new();
    let mut pending = vec![root];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).unwrap();
                for (_, rest) in source.match_indices("aws.bucket(").map(|(i, _)| source.split_at(i)) {
                    mains.push((
                        path.display().to_string(),
                        rest["aws.bucket(".len()..].split(')').next().unwrap().to_owned(),
                    ));
                }
            }
        }
    }
    assert!(mains.len() >= 3, "the ingest, tracking and privacy mains open the bucket: {mains:?}");
    let others: Vec<_> = mains.iter().filter(|(_, name)| name != "\"LASTMILE_ARCHIVE_BUCKET\"").collect();
    assert!(others.is_empty(), "a function keeps files elsewhere: {others:?}");
}

#[test]
fn every_returns_route_is_an_event_of_the_returns_api_function() {
    assert_eq!(missing("ReturnsApiFunction", lastmile_fn_returns::api::routes()), Vec::<String>::new());
}
