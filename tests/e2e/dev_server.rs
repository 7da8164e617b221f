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

/// Sends one request and answers the status, the response's header lines and the body (the e2e helpers only
/// answer the body, and a login is in the headers).
fn exchange(server: &DevServer, head: &str, body: &str) -> (u16, Vec<String>, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(&server.addr).expect("connects");
    let request =
        format!("{head}\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", server.addr, body.len());
    stream.write_all(request.as_bytes()).expect("writes");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("reads");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.lines().skip(1).map(str::to_owned).collect(), body.to_owned())
}

fn set_cookie(headers: &[String], name: &str) -> String {
    headers
        .iter()
        .find_map(|h| {
            h.strip_prefix("set-cookie: ")?.strip_prefix(&format!("{name}="))?.split(';').next().map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("no {name} cookie in {headers:?}"))
}

#[test]
fn the_dashboard_logs_in_with_the_printed_key() {
    let dir = temp_data_dir("dashboard");
    let server = DevServer::start(&dir);
    let key = server.key.clone().expect("first start prints the local key");
    let (status, headers, _) = exchange(&server, "GET / HTTP/1.1", "");
    assert_eq!(status, 303);
    assert!(headers.iter().any(|h| h == "location: /dashboard/login"), "{headers:?}");

    let (status, headers, form) = exchange(&server, "GET /dashboard/login HTTP/1.1", "");
    assert_eq!(status, 200);
    assert!(form.contains("<title>lastmile</title>"));
    let nonce = set_cookie(&headers, "lastmile_login");
    let token = form.split(r#"name="csrf" value=""#).nth(1).and_then(|r| r.split('"').next()).expect("token");
    let (status, headers, _) = exchange(
        &server,
        &format!(
            "POST /dashboard/login HTTP/1.1\r\nCookie: lastmile_login={nonce}\r\nContent-Type: application/x-www-form-urlencoded"
        ),
        &format!("key={key}&csrf={token}"),
    );
    assert_eq!(status, 303, "{headers:?}");
    let session = set_cookie(&headers, "lastmile_session");
    let (status, _, page) = exchange(&server, &format!("GET / HTTP/1.1\r\nCookie: lastmile_session={session}"), "");
    assert_eq!(status, 200);
    assert!(page.contains("<code>default</code>") && page.contains("Address check"));
    let (status, _, script) = exchange(&server, "GET /dashboard/app.js HTTP/1.1", "");
    assert!(status == 200 && script.contains("/dashboard/api"));
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
    // Another tenant's keys are not acme's: its list shows only its own.
    let other = tenant_cli(&dir, &["create", "other", "--name", "Other Shop"]);
    let other_id = other.split_whitespace().find(|w| w.starts_with("key_")).expect("the key's id").to_owned();
    assert!(!tenant_cli(&dir, &["key", "list", "acme"]).contains(&other_id));
    assert!(tenant_cli(&dir, &["key", "list", "other"]).contains(&other_id));
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
