# Sourced by the ensure-*.sh scripts: installs Debian packages when running as root where apt-get exists.
# apt_install "for WHAT" PACKAGE...: 0 when apt-get installed them; 1 when not root, no apt-get, or apt-get failed (said on stderr).
apt_install() {
  local why=$1
  shift
  if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    return 1
  fi
  echo "installing $* (apt-get install $*) $why"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }; then
    echo "error: apt-get install $* failed (see its output above)" >&2
    return 1
  fi
}
