//! The dashboard's pages and assets. No inline script or style: the Content-Security-Policy allows only the
//! served `/dashboard/app.js` and `/dashboard/app.css`, so injected markup cannot run. Every value put into a
//! page is escaped. A panel is a `<section>` in [`dashboard`] plus its handler in `app.js`.

/// Escapes text for HTML content and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn document(head: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lastmile</title>
<link rel="stylesheet" href="/dashboard/app.css">
{head}</head>
<body>
{body}
</body>
</html>
"#
    )
}

/// The login form. `problem` is shown above it after a failed attempt; it never says which part was wrong.
pub fn login(csrf: &str, problem: Option<&str>) -> String {
    let problem = problem.map(|p| format!(r#"<p class="problem" role="alert">{}</p>"#, escape(p))).unwrap_or_default();
    document(
        "",
        &format!(
            r#"<header><h1>lastmile</h1></header>
<main class="narrow">
  <section>
    <h2>Log in</h2>
    {problem}
    <form method="post" action="/dashboard/login">
      <input type="hidden" name="csrf" value="{csrf}">
      <label for="key">API key</label>
      <input id="key" name="key" type="password" autocomplete="current-password" required placeholder="lmk_… (printed by lastmile dev on first start)">
      <button type="submit">Log in</button>
    </form>
  </section>
</main>"#,
            csrf = escape(csrf),
        ),
    )
}

/// The dashboard of one tenant. The CSRF token sits in a meta tag for `app.js` and in the logout form. `panels` is
/// markup already escaped (the tracking panels, [`super::tracking::render`]), put first in `<main>`.
pub fn dashboard(tenant_id: &str, tenant_name: &str, csrf: &str, panels: &str) -> String {
    let csrf = escape(csrf);
    document(
        &format!("<meta name=\"csrf-token\" content=\"{csrf}\">\n"),
        &format!(
            r#"<header>
  <h1>lastmile</h1>
  <span id="tenant">{name} <code>{id}</code></span>
  <span id="status">checking…</span>
  <form method="post" action="/dashboard/logout" class="logout">
    <input type="hidden" name="csrf" value="{csrf}">
    <button type="submit">Log out</button>
  </form>
</header>
<main>
  {panels}<section>
    <h2>Address check</h2>
    <label for="country">Country</label>
    <input id="country" value="US" maxlength="2">
    <label for="text">Address</label>
    <textarea id="text" rows="3">123 main st, near the school, springfield il 62701</textarea>
    <button id="go" type="button">Validate</button>
  </section>
  <section>
    <h2>Result <span id="verdict" class="verdict"></span></h2>
    <div id="summary"></div>
    <pre id="out">—</pre>
  </section>
</main>
<script src="/dashboard/app.js"></script>"#,
            name = escape(tenant_name),
            id = escape(tenant_id),
        ),
    )
}

pub const CSS: &str = r#"body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d232a; background: #f5f6f8; }
header { background: #14324a; color: #fff; padding: 14px 24px; display: flex; gap: 16px; align-items: baseline; }
header h1 { font-size: 20px; margin: 0; }
header code { opacity: .8; }
header .logout { margin-left: auto; }
header .logout button { margin: 0; background: #2b4c66; }
main { max-width: 1100px; margin: 24px auto; padding: 0 24px; display: grid; gap: 20px; grid-template-columns: 1fr 1fr; }
main.narrow { max-width: 420px; grid-template-columns: 1fr; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: 16px 20px; }
h2 { font-size: 16px; margin: 0 0 12px; }
label { display: block; font-size: 13px; color: #4b5563; margin: 8px 0 4px; }
input, textarea, select { width: 100%; box-sizing: border-box; font: inherit; padding: 6px 8px; border: 1px solid #c5cbd3; border-radius: 5px; }
button { margin-top: 12px; font: inherit; padding: 7px 16px; border: 0; border-radius: 5px; background: #14324a; color: #fff; cursor: pointer; }
pre { background: #0f1720; color: #d7e0ea; padding: 12px; border-radius: 6px; overflow: auto; max-height: 420px; font-size: 12.5px; }
.problem { background: #ffd6d6; padding: 6px 10px; border-radius: 5px; }
.verdict { font-weight: 600; padding: 2px 8px; border-radius: 4px; }
.valid { background: #d1f4dc; } .fixable { background: #fff1c2; } .invalid { background: #ffd6d6; }
.wide { grid-column: 1 / -1; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin-top: 12px; }
.tile { border: 1px solid #dde1e6; border-radius: 6px; padding: 8px 12px; display: flex; flex-direction: column; }
.tile .label { font-size: 12px; color: #4b5563; }
.tile .value { font-size: 22px; font-weight: 600; }
.range { display: flex; gap: 8px; align-items: center; }
.range input { width: auto; } .range label { margin: 0; } .range button { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceff2; }
td.ok { background: #d1f4dc; } td.miss { background: #ffd6d6; }
td.escalated { color: #9b2c2c; font-weight: 600; } td.stalled { color: #975a16; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.transit figcaption { font-size: 13px; color: #4b5563; }
.transit text { fill: #4b5563; }
.empty { color: #6b7280; }
h3 { font-size: 14px; margin: 12px 0 6px; }
"#;

/// The dashboard's script. It calls the session's API under `/dashboard/api` (the cookie authenticates it) and
/// sends the page's CSRF token with every request that is not a GET.
pub const JS: &str = r#"'use strict';
const $ = (id) => document.getElementById(id);
const csrf = document.querySelector('meta[name="csrf-token"]').content;

async function api(method, path, body) {
  const headers = { 'x-csrf-token': csrf };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch('/dashboard/api' + path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // An ended session (expired, logged out, key revoked) goes back to the login form.
  if (res.status === 401) { window.location.assign('/dashboard/login'); }
  return { status: res.status, body: await res.json() };
}

fetch('/health').then(r => r.json()).then(h => { $('status').textContent = `v${h.version} · ${h.reference_rows.toLocaleString()} reference rows loaded`; })
  .catch(() => { $('status').textContent = 'server unreachable'; });

$('go').addEventListener('click', async () => {
  const { status, body } = await api('POST', '/v1/address/validate', { country: $('country').value.trim(), text: $('text').value });
  $('out').textContent = JSON.stringify(body, null, 2);
  const v = $('verdict');
  if (body.verdict) {
    v.textContent = body.verdict; v.className = 'verdict ' + body.verdict;
    $('summary').textContent = (body.standardized.formatted || []).join(' / ');
  } else {
    v.textContent = status; v.className = 'verdict invalid';
    $('summary').textContent = body.error ? body.error.message : '';
  }
});
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_no_script_is_inline() {
        let page = dashboard("acme", "<script>alert(1)</script> & \"co\"", "tok\"en", "");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;co&quot;"));
        assert!(page.contains(r#"content="tok&quot;en""#));
        assert_eq!(page.matches("<script").count(), 1, "only the served script");
        assert!(page.contains(r#"<script src="/dashboard/app.js"></script>"#));
        assert!(!page.contains("<style"), "styles are served too");
        let form = login("t", Some("<b>"));
        assert!(form.contains("&lt;b&gt;") && !form.contains("<script"));
    }
}
