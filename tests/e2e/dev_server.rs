use lastmile_tests::DevServer;
use serde_json::Value;

pub(crate) fn temp_data_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lastmile-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn first_start_prints_a_key_that_works_and_a_restart_keeps_it() {
    let dir = temp_data_dir("first-start");
    let server = DevServer::start(&dir);
    let key = server.key.clone().expect("first start prints the local key");
    assert!(server.stdout_lines.iter().any(|l| l.contains("created tenant 'default'")));

    let (status, body) = server.request("GET", "/health", None, "");
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.request(
        "POST",
        "/v1/address/validate",
        Some(&key),
        r#"{"country":"US","text":"1600 pennsylvania avenue northwest, washington dc 20500"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let result: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(result["verdict"], "valid");
    assert_eq!(result["standardized"]["lines"][0], "1600 PENNSYLVANIA AVE NW");
    let (status, _) = server.request("POST", "/v1/address/validate", None, "{}");
    assert_eq!(status, 401);
    assert!(server.stop().success(), "SIGTERM stops the server cleanly");

    // The configuration and the key survive a restart; no second key is printed.
    assert!(dir.join("tenants/default.toml").exists());
    assert!(!std::fs::read_to_string(dir.join("keys.json")).unwrap().contains(&key));
    let again = DevServer::start(&dir);
    assert!(again.key.is_none(), "a restart prints no new key");
    let (status, body) = again.request(
        "POST",
        "/v1/address/validate",
        Some(&key),
        r#"{"country":"DE","text":"Unter den Linden 77, 10117 Berlin"}"#,
    );
    assert_eq!(status, 200, "{body}");
    drop(again);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_dashboard_is_served() {
    let dir = temp_data_dir("dashboard");
    let server = DevServer::start(&dir);
    let (status, body) = server.request("GET", "/", None, "");
    assert_eq!(status, 200);
    assert!(body.contains("<title>lastmile</title>"));
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
