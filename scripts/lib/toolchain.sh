# Toolchain helpers sourced by scripts/test and scripts/dev. Each is idempotent.

ensure_rust_components() {
  cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
  cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
}

# The wasm32 target from rustup; where it cannot be downloaded, Debian's rustc-web toolchain, whose standard
# library is built from source with -Zbuild-std.
WASM_FALLBACK=0
ensure_wasm_target() {
  if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    return 0
  fi
  if rustup target add wasm32-unknown-unknown; then
    return 0
  fi
  echo "rustup could not add wasm32-unknown-unknown: falling back to Debian's rustc-web" >&2
  if ! dpkg -s rustc-web cargo-web rust-web-src >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rustc-web cargo-web rust-web-src lld >/dev/null
  fi
  WASM_FALLBACK=1
}

# Runs cargo for wasm32 (build, clippy) with the toolchain that ensure_wasm_target found.
wasm_cargo() {
  local subcommand="$1"; shift
  if [ "$WASM_FALLBACK" = 1 ]; then
    # Debian's toolchain lives in /usr/bin, behind rustup's on PATH; it builds std for wasm32 from source.
    RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo "$subcommand" --target wasm32-unknown-unknown \
      --target-dir target/wasm-debian -Zbuild-std=std,panic_abort "$@"
  else
    cargo "$subcommand" --target wasm32-unknown-unknown --locked "$@"
  fi
}

build_core_for_wasm() {
  wasm_cargo build -p lastmile-core
}
