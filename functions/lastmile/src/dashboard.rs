//! The dashboard page. It holds no data of its own: it calls the API with the key the user types (kept in
//! the page's memory only), so it shows nothing to someone without a key.

pub const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lastmile</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d232a; background: #f5f6f8; }
  header { background: #14324a; color: #fff; padding: 14px 24px; display: flex; gap: 16px; align-items: baseline; }
  header h1 { font-size: 20px; margin: 0; }
  main { max-width: 1100px; margin: 24px auto; padding: 0 24px; display: grid; gap: 20px; grid-template-columns: 1fr 1fr; }
  section { background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: 16px 20px; }
  h2 { font-size: 16px; margin: 0 0 12px; }
  label { display: block; font-size: 13px; color: #4b5563; margin: 8px 0 4px; }
  input, textarea, select { width: 100%; box-sizing: border-box; font: inherit; padding: 6px 8px; border: 1px solid #c5cbd3; border-radius: 5px; }
  button { margin-top: 12px; font: inherit; padding: 7px 16px; border: 0; border-radius: 5px; background: #14324a; color: #fff; cursor: pointer; }
  pre { background: #0f1720; color: #d7e0ea; padding: 12px; border-radius: 6px; overflow: auto; max-height: 420px; font-size: 12.5px; }
  .verdict { font-weight: 600; padding: 2px 8px; border-radius: 4px; }
  .valid { background: #d1f4dc; } .fixable { background: #fff1c2; } .invalid { background: #ffd6d6; }
  .wide { grid-column: 1 / -1; }
</style>
</head>
<body>
<header><h1>lastmile</h1><span id="status">checking…</span></header>
<main>
  <section>
    <h2>Address check</h2>
    <label for="key">API key</label>
    <input id="key" type="password" autocomplete="off" placeholder="lmk_… (printed by lastmile dev on first start)">
    <label for="country">Country</label>
    <input id="country" value="US" maxlength="2">
    <label for="text">Address</label>
    <textarea id="text" rows="3">123 main st, near the school, springfield il 62701</textarea>
    <button id="go">Validate</button>
  </section>
  <section>
    <h2>Result <span id="verdict" class="verdict"></span></h2>
    <div id="summary"></div>
    <pre id="out">—</pre>
  </section>
</main>
<script>
const $ = (id) => document.getElementById(id);
fetch('/health').then(r => r.json()).then(h => { $('status').textContent = `v${h.version} · ${h.reference_rows.toLocaleString()} reference rows loaded`; })
  .catch(() => { $('status').textContent = 'server unreachable'; });
$('go').addEventListener('click', async () => {
  const res = await fetch('/v1/address/validate', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'authorization': 'Bearer ' + $('key').value.trim() },
    body: JSON.stringify({ country: $('country').value.trim(), text: $('text').value }),
  });
  const body = await res.json();
  $('out').textContent = JSON.stringify(body, null, 2);
  const v = $('verdict');
  if (body.verdict) {
    v.textContent = body.verdict; v.className = 'verdict ' + body.verdict;
    $('summary').textContent = (body.standardized.formatted || []).join(' / ');
  } else {
    v.textContent = res.status; v.className = 'verdict invalid';
    $('summary').textContent = body.error ? body.error.message : '';
  }
});
</script>
</body>
</html>
"#;
