#!/usr/bin/env bash
# Makes sure the browser tests have Debian's Chromium (/usr/bin/chromium, or VIGIL_CHROMIUM): installed via apt-get when root.
set -euo pipefail
# shellcheck source=apt-install.sh
source "$(dirname "$0")/apt-install.sh"

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

apt_install "for the browser tests" chromium || true
if find_chromium; then
  exit 0
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
