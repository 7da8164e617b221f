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

/// Runs `lastmile tenant …` on a data directory and answers its standard output.
fn tenant_cli(dir: &std::path::Path, args: &[&str]) -> String {
    let output = std::process::Command::new(lastmile_tests::lastmile_bin())
        .arg("tenant")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8")
}

fn printed_key(output: &str) -> String {
    output.split_whitespace().find(|w| w.starts_with("lmk_")).expect("a key printed").to_owned()
}

#[test]
fn tenants_and_keys_from_the_cli_rotate_under_a_running_server() {
    let dir = temp_data_dir("tenant-cli");
    let created = tenant_cli(&dir, &["create", "acme", "--name", "Acme Outdoor", "--shop", "acme.myshopify.com"]);
    let first = printed_key(&created);
    let server = DevServer::start(&dir);
    let listed = tenant_cli(&dir, &["list"]);
    assert!(listed.lines().any(|l| l.starts_with("acme ") && l.contains("acme.myshopify.com")), "{listed}");
    let ping = |key: &str| {
        server
            .request(
                "POST",
                "/v1/address/validate",
                Some(key),
                r#"{"country":"US","text":"1 main st, springfield il 62701"}"#,
            )
            .0
    };
    assert_eq!(ping(&first), 200);
    // Rotation: a second key, both work; the first revoked, refused at once by the running server.
    let second = printed_key(&tenant_cli(&dir, &["key", "create", "acme", "--name", "erp"]));
    assert_eq!(ping(&second), 200);
    let keys = tenant_cli(&dir, &["key", "list", "acme"]);
    let first_id = keys
        .lines()
        .find(|l| l.contains(" first "))
        .and_then(|l| l.split_whitespace().next())
        .expect("first key listed")
        .to_owned();
    assert!(
        keys.lines().find(|l| l.contains(" first ")).is_some_and(|l| !l.contains("never")),
        "last use recorded: {keys}"
    );
    assert!(!keys.contains("lmk_"), "keys are never listed");
    tenant_cli(&dir, &["key", "revoke", &first_id]);
    assert_eq!(ping(&first), 401);
    assert_eq!(ping(&second), 200);
    assert!(
        tenant_cli(&dir, &["key", "list", "acme"]).lines().any(|l| l.starts_with(&first_id) && l.ends_with("revoked"))
    );
    server.stop();
    // A configuration written elsewhere replaces the tenant's.
    let edited = std::fs::read_to_string(dir.join("tenants/acme.toml"))
        .expect("tenant file")
        .replace("name = \"Acme Outdoor\"", "name = \"Acme Outdoor EU\"");
    let file = dir.join("acme-edited.toml");
    std::fs::write(&file, edited).expect("written");
    tenant_cli(&dir, &["put", file.to_str().expect("UTF-8 path")]);
    assert!(tenant_cli(&dir, &["list"]).contains("Acme Outdoor EU"));
    let _ = std::fs::remove_dir_all(&dir);
}
