# Edge worker helpers sourced by scripts/test and scripts/edge. Each is idempotent and works offline but for
# the package registries: wasm-bindgen-cli from cargo, workerd/wrangler/wasm-opt/Node 22 from npm.

EDGE_DIR="$ROOT/edge-worker"
EDGE_BUILD="$EDGE_DIR/build"
TOOLS_DIR="${LASTMILE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lastmile/tools}"
export WRANGLER_SEND_METRICS=false

# npm packages from the checked-in lockfile; reinstalled only when the lockfile changes. Node 22 (which
# wrangler needs) comes as a package too, so node_modules/.bin goes first on PATH.
ensure_node_modules() {
  local stamp="$ROOT/node_modules/.lastmile-lock.sha256"
  local want
  want=$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
  export PATH="$ROOT/node_modules/.bin:$PATH"
}

# wasm-bindgen-cli must be exactly the version of the wasm-bindgen library in Cargo.lock.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

WASM_BINDGEN=""
ensure_wasm_bindgen() {
  local version
  version=$(wasm_bindgen_version)
  local root="$TOOLS_DIR/wasm-bindgen-$version"
  WASM_BINDGEN="$root/bin/wasm-bindgen"
  if [ -x "$WASM_BINDGEN" ] && "$WASM_BINDGEN" --version | grep -q " $version\$"; then
    return 0
  fi
  # Without --locked: the CLI's own lockfile pins crate versions that a registry mirror may not carry.
  cargo install --quiet --root "$root" wasm-bindgen-cli --version "$version"
}

# Builds edge-worker/build/: worker.mjs (the entry module bundled with wasm-bindgen's glue by esbuild, which
# comes with wrangler) and index_bg.wasm (shrunk by wasm-opt when it is installed).
build_edge_worker() {
  wasm_cargo build --profile edge -p lastmile-edge-worker
  local target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
  [ "$WASM_FALLBACK" = 1 ] && target_dir="$ROOT/target/wasm-debian"
  rm -rf "$EDGE_BUILD"
  mkdir -p "$EDGE_BUILD"
  "$WASM_BINDGEN" --target module --out-dir "$EDGE_BUILD" --out-name index --no-typescript \
    "$target_dir/wasm32-unknown-unknown/edge/lastmile_edge_worker.wasm"
  if command -v wasm-opt >/dev/null 2>&1; then
    wasm-opt -Oz --strip-debug --strip-producers "$EDGE_BUILD/index_bg.wasm" -o "$EDGE_BUILD/index_bg.wasm.opt"
    mv "$EDGE_BUILD/index_bg.wasm.opt" "$EDGE_BUILD/index_bg.wasm"
  fi
  cp "$EDGE_DIR/entry.mjs" "$EDGE_BUILD/entry.mjs"
  esbuild "$EDGE_BUILD/entry.mjs" --bundle --format=esm --log-level=warning \
    --external:./index_bg.wasm --outfile="$EDGE_BUILD/worker.mjs"
  rm -rf "$EDGE_BUILD/entry.mjs" "$EDGE_BUILD/index.js" "$EDGE_BUILD/snippets"
  ls -l "$EDGE_BUILD"
  # The postcode tables travel as static assets (wrangler.toml's [assets]), from the same data the host builds.
  rm -rf "$EDGE_DIR/assets"
  cargo run --quiet --locked -p lastmile-core --example postcode-assets -- "$EDGE_DIR/assets"
  ls -l "$EDGE_DIR/assets/postcodes"
}

# Packages the built worker as `wrangler deploy` would, without uploading: checks wrangler.toml and the build.
check_wrangler_config() {
  local out="$ROOT/target/edge-dry-run"
  rm -rf "$out"
  (cd "$EDGE_DIR" && CI=true wrangler deploy --dry-run --outdir "$out" >"$out.log" 2>&1) || {
    cat "$out.log" >&2
    return 1
  }
  ls "$out"
}
