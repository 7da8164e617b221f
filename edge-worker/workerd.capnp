# Runs the built worker (build/) in bare workerd, the open-source Workers runtime, for the tests and the
# benchmark:   workerd serve workerd.capnp --socket-addr open=127.0.0.1:PORT --socket-addr checkout=127.0.0.1:PORT
#   --directory-path assets=edge-worker/assets
# Two services share the same modules: `open` has no bindings (no session token needed, no rate limit), as
# `lastmile dev` serves; `checkout` is configured as a Shopify deployment, its secret, key and allow-list taken
# from the environment, and a local stand-in for Cloudflare's rate limiting binding. Both read the postcode
# tables from `assets`, a folder served as Cloudflare serves a Worker's static assets (its path is given on the
# command line: the build writes it).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "open", worker = .openWorker),
    (name = "checkout", worker = .checkoutWorker),
    (name = "assets", disk = (writable = false)),
  ],
  sockets = [
    (name = "open", address = "127.0.0.1:8787", http = (), service = "open"),
    (name = "checkout", address = "127.0.0.1:8788", http = (), service = "checkout"),
  ],
  extensions = [
    (modules = [(name = "lastmile-testing:rate-limiter", esModule = embed "testing/rate-limiter.mjs", internal = true)]),
  ],
);

const modules :List(Workerd.Worker.Module) = [
  (name = "worker.mjs", esModule = embed "build/worker.mjs"),
  (name = "index_bg.wasm", wasm = embed "build/index_bg.wasm"),
];

const openWorker :Workerd.Worker = (
  modules = .modules,
  compatibilityDate = "2026-11-01",
  bindings = [(name = "ASSETS", service = "assets")],
);

const checkoutWorker :Workerd.Worker = (
  modules = .modules,
  compatibilityDate = "2026-11-01",
  bindings = [
    (name = "ASSETS", service = "assets"),
    (name = "SHOPIFY_API_SECRET", fromEnvironment = "LASTMILE_EDGE_SHOPIFY_API_SECRET"),
    (name = "SHOPIFY_API_KEY", fromEnvironment = "LASTMILE_EDGE_SHOPIFY_API_KEY"),
    (name = "SHOPIFY_SHOP_ALLOWLIST", fromEnvironment = "LASTMILE_EDGE_SHOPIFY_SHOP_ALLOWLIST"),
    (name = "ADDRESS_RATE_LIMITER", wrapped = (
      moduleName = "lastmile-testing:rate-limiter",
      innerBindings = [(name = "limit", json = "20"), (name = "period", json = "60")],
    )),
  ],
);
