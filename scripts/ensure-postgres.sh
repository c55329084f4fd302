#!/usr/bin/env bash
# Makes sure the storage tests have a real PostgreSQL: TEST_DATABASE_URL, or server binaries (installed via apt-get when root).
set -euo pipefail

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

if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing PostgreSQL server binaries (apt-get install postgresql) for the storage tests"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }; then
    echo "error: apt-get install postgresql failed (see its output above)" >&2
  fi
  if have_server_binaries; then
    exit 0
  fi
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
