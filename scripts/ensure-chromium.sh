#!/usr/bin/env bash
# Makes sure the browser tests have Debian's Chromium (/usr/bin/chromium, or VIGIL_CHROMIUM): installed via apt-get when root.
set -euo pipefail

# Same lookup as test/browser/harness.ts.
find_chromium() {
  local c
  for c in "${VIGIL_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [[ -n $c && -x $c ]]; then
      return 0
    fi
  done
  return 1
}

if find_chromium; then
  exit 0
fi

if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Chromium (apt-get install chromium) for the browser tests"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
    echo "error: apt-get install chromium failed (see its output above)" >&2
  fi
  if find_chromium; then
    exit 0
  fi
fi

cat >&2 <<'MSG'
error: the browser tests need Chromium, and none is available.
  Missing: /usr/bin/chromium (or the path in VIGIL_CHROMIUM).
  Fix one of:
    - install it: Debian: apt-get install chromium; Ubuntu: snap install chromium (then VIGIL_CHROMIUM=/snap/bin/chromium);
      Fedora: dnf install chromium
    - or point the tests at a Chromium or Chrome you have: export VIGIL_CHROMIUM=/path/to/chrome
MSG
exit 1
