#!/usr/bin/env bash
# Makes sure the storage tests have a real PostgreSQL: TEST_DATABASE_URL, or server binaries (installed via apt-get when root).
set -euo pipefail
# shellcheck source=apt-install.sh
source "$(dirname "$0")/apt-install.sh"

if [[ -n "${TEST_DATABASE_URL:-}" ]]; then
  exit 0
fi

# Same lookup as test/harness/postgres.ts: PATH first, then /usr/lib/postgresql/<version>/bin.
have_server_binaries() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    return 0
  fi
  local bin
  for bin in /usr/lib/postgresql/*/bin; do
    if [[ -x "$bin/initdb" && -x "$bin/pg_ctl" ]]; then
      return 0
    fi
  done
  return 1
}

if have_server_binaries; then
  exit 0
fi

apt_install "for the storage tests" postgresql || true
if have_server_binaries; then
  exit 0
fi

cat >&2 <<'MSG'
error: the storage tests need a real PostgreSQL, and none is available.
  Missing: the PostgreSQL server binaries initdb and pg_ctl (looked in PATH and /usr/lib/postgresql/*/bin).
  Fix one of:
    - install them: Debian/Ubuntu: apt-get install postgresql; Fedora: dnf install postgresql-server; macOS: brew install postgresql
    - or point the tests at a server you run: export TEST_DATABASE_URL=postgres://user:password@host:5432/postgres
      (the user must be allowed to CREATE DATABASE)
MSG
exit 1
