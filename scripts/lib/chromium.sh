# Headless Chromium for the dashboard's browser test, sourced by scripts/test: Debian's `chromium` package,
# installed with apt-get when /usr/bin/chromium is missing (idempotent: a second run does nothing).

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium
}
