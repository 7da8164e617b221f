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

#[test]
fn every_returns_route_is_an_event_of_the_returns_api_function() {
    assert_eq!(missing("ReturnsApiFunction", lastmile_fn_returns::api::routes()), Vec::<String>::new());
}
