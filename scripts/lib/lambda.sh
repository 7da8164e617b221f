# Lambda packaging helpers sourced by scripts/test. cargo-lambda (with zig for the cross link) comes from the
# project's Python environment (scripts/python-env); the aarch64 target from rustup.

# The functions the test command builds for arm64, each with its `lambda` feature (the AWS adapters: every
# function reads tenants and keys from the deployment's table).
LAMBDA_FUNCTIONS=(lastmile-fn-quote lastmile-fn-duty lastmile-fn-ingest lastmile-fn-route lastmile-fn-privacy lastmile-fn-shopify lastmile-fn-stalls lastmile-fn-kpi lastmile-fn-tracking lastmile-fn-reconcile lastmile-fn-claims lastmile-fn-returns)
LAMBDA_ARTIFACTS=(lastmile-fn-quote lastmile-fn-duty lastmile-fn-ingest lastmile-fn-route lastmile-fn-route-api lastmile-fn-privacy lastmile-fn-shopify lastmile-fn-stalls lastmile-fn-kpi lastmile-fn-kpi-api lastmile-fn-tracking lastmile-fn-tracking-api lastmile-fn-reconcile lastmile-fn-claims lastmile-fn-claims-api lastmile-fn-returns lastmile-fn-returns-sweep)

ensure_lambda_target() {
  rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu \
    || rustup target add aarch64-unknown-linux-gnu
}

# Builds every function for Graviton (arm64) and checks each artifact: a zip holding `bootstrap`, an ELF
# executable for aarch64. The check build uses the `lambda-check` profile (unoptimised, so its zips are larger than
# deployment's); `LAMBDA_PROFILE=lambda` builds as deployment does (infra/README.md), and prints those sizes.
build_lambdas_arm64() {
  local packages=() features=()
  for f in "${LAMBDA_FUNCTIONS[@]}"; do packages+=(-p "$f"); features+=("$f/lambda"); done
  PATH="$ROOT/.venv/bin:$PATH" cargo lambda build --profile "${LAMBDA_PROFILE:-lambda-check}" --arm64 --locked --output-format zip \
    "${packages[@]}" --features "$(IFS=,; echo "${features[*]}")"
  for f in "${LAMBDA_ARTIFACTS[@]}"; do
    python3 - "$ROOT/target/lambda/$f/bootstrap.zip" <<'PY'
import sys, zipfile
path = sys.argv[1]
with zipfile.ZipFile(path) as z:
    head = z.read("bootstrap")[:20]
# ELF magic, 64-bit, and e_machine 183 (EM_AARCH64) at offset 18.
ok = head[:4] == b"\x7fELF" and head[4] == 2 and int.from_bytes(head[18:20], "little") == 183
import os
print(f"{path}: {os.path.getsize(path) / 1e6:.2f} MB zip, bootstrap {'ELF aarch64' if ok else 'NOT an aarch64 ELF'}")
sys.exit(0 if ok else 1)
PY
  done
}
