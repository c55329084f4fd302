#!/usr/bin/env bash
# Makes sure the nginx test (test/ops/nginx.test.ts) has nginx (VIGIL_NGINX, /usr/sbin/nginx or on PATH): Debian's, installed via apt-get when root.
set -euo pipefail
# shellcheck source=apt-install.sh
source "$(dirname "$0")/apt-install.sh"

# Same lookup as test/ops/nginx.test.ts.
find_nginx() {
  local c
  for c in "${VIGIL_NGINX:-}" /usr/sbin/nginx "$(command -v nginx || true)"; do
    if [[ -n $c && -x $c ]]; then
      return 0
    fi
  done
  return 1
}

if find_nginx; then
  exit 0
fi

# Debian's package starts the system nginx on port 80 where it can; the test runs its own, so that is not needed.
apt_install "for the reverse-proxy test" nginx || true
if find_nginx; then
  exit 0
fi

cat >&2 <<'MSG'
error: the reverse-proxy test (test/ops/nginx.test.ts) needs nginx, and none is available.
  Missing: /usr/sbin/nginx (or nginx on PATH, or the path in VIGIL_NGINX).
  Fix one of:
    - install it: Debian/Ubuntu: apt-get install nginx; Fedora: dnf install nginx
    - or point the test at an nginx you have: export VIGIL_NGINX=/path/to/nginx
  The test runs it as an ordinary process on loopback ports, with its files in a temp dir.
MSG
exit 1
