#!/usr/bin/env bash
# Makes sure the deploy test (test/ops/deploy.test.ts) has OpenSSH's server and client: Debian's, installed via apt-get when root.
set -euo pipefail
# shellcheck source=apt-install.sh
source "$(dirname "$0")/apt-install.sh"

# Same lookup as test/harness/sshd.ts.
have() {
  [[ -x ${VIGIL_SSHD:-/usr/sbin/sshd} ]] && command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1
}

if have; then
  exit 0
fi

# The package enables the system sshd on port 22 where systemd runs; the test starts its own on a loopback port.
apt_install "for the make deploy test" openssh-server openssh-client || true
if have; then
  exit 0
fi

cat >&2 <<'MSG'
error: the make deploy test (test/ops/deploy.test.ts) needs OpenSSH's sshd, ssh and ssh-keygen, and they are not all here.
  Fix one of:
    - install them: Debian/Ubuntu: apt-get install openssh-server; Fedora: dnf install openssh-server openssh-clients
    - or point the test at an sshd you have: export VIGIL_SSHD=/path/to/sshd
  The test runs its own sshd on a loopback port with throwaway keys and a temp directory; it never touches port 22.
MSG
exit 1
