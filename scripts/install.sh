#!/bin/sh
# Installs, updates or removes the Vigil agent on a Linux worker; the head serves it as /install.sh with its URL filled in.
#
#   curl -fsSL http://HEAD:8480/install.sh | sudo sh -s -- --token TOKEN [--name NAME] [--allow comfyui.service,...]
#   curl -fsSL http://HEAD:8480/install.sh | sudo sh -s                  # update: keeps the settings already written
#   curl -fsSL http://HEAD:8480/install.sh | sh -s -- --dry-run ...      # print the steps, change nothing
#   curl -fsSL http://HEAD:8480/install.sh | sudo sh -s -- --uninstall
#
# This file is a template (src/routes/install.ts renders it): every @@NAME@@ below sits inside single quotes or a
# quoted here-document, and the head fills in only values it has validated, escaped for single quotes.
set -eu

VIGIL_HEAD_URL='@@VIGIL_HEAD_URL@@'
VIGIL_HEAD_VERSION='@@VIGIL_VERSION@@'

BINARY_NAME=vigil-linux-x64
# Tests only (make deploy's test against a loopback sshd): every path below lives under this directory instead of /,
# no system user is made (files belong to whoever runs this), and systemctl is whatever comes first on PATH.
ROOT=${VIGIL_INSTALL_ROOT:-}
case $ROOT in
'' | /*) ;;
*)
	printf 'vigil install: VIGIL_INSTALL_ROOT must be an absolute path, not %s\n' "$ROOT" >&2
	exit 1
	;;
esac
ROOT=${ROOT%/}
# For people on the shell (vigil version, vigil agent --once --json); root-owned.
CLI_BIN=$ROOT/usr/local/bin/vigil
# The service's own copy, owned by vigil, which the agent replaces itself when the head announces an update
# (see ExecStart= in the unit for why there are two).
AGENT_DIR=$ROOT/var/lib/vigil-agent
AGENT_BIN=$AGENT_DIR/bin/vigil
ETC_DIR=$ROOT/etc/vigil
ENV_FILE=$ETC_DIR/agent.env
UNIT_NAME=vigil-agent.service
UNIT_FILE=$ROOT/etc/systemd/system/$UNIT_NAME
DROPIN_DIR=/etc/systemd/system/$UNIT_NAME.d
SUDO_DROPIN=$DROPIN_DIR/50-vigil-sudo-restarts.conf
POLKIT_RULE=$ROOT/etc/polkit-1/rules.d/50-vigil-agent.rules
SUDOERS_FILE=$ROOT/etc/sudoers.d/vigil-agent
SERVICE_USER=vigil
# Who owns the agent's files: its system user, or under VIGIL_INSTALL_ROOT whoever runs the script.
SERVICE_OWNER=$SERVICE_USER
[ -z "$ROOT" ] || SERVICE_OWNER=$(id -un)

say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'vigil install: warning: %s\n' "$*" >&2; }
die() {
	printf 'vigil install: %s\n' "$*" >&2
	exit 1
}

usage() {
	cat <<'EOF'
usage: curl -fsSL http://HEAD:8480/install.sh | sudo sh -s -- [options]

  --token TOKEN     the worker's enrollment token (vigil worker add NAME prints it); kept from the last run if omitted
  --name NAME       the name this worker reports as (default: its host name)
  --allow UNITS     comma-separated systemd units the head may restart here, e.g. comfyui.service,ollama ('' for none)
  --head URL        the head's URL, when workers reach it by another address than the one this script came from
  --binary FILE     install this vigil binary instead of downloading it from the head (make deploy copies it over SSH)
  --dry-run         print what would be done, change nothing (downloads and verifies the binary into a temp dir)
  --uninstall       stop the agent and remove what this script installed
  -h, --help        this text

Tests only, honoured with --dry-run alone: VIGIL_INSTALL_ALLOW_NONROOT=1 runs without root (a real install always
needs root); VIGIL_INSTALL_RESTART_VIA=polkit|sudo shows that way of allowing restarts whatever this machine has;
VIGIL_INSTALL_ROOT=DIR installs under DIR instead of / (make deploy's test).
EOF
}

# Runs a command, or under --dry-run prints it. Arguments are never re-parsed by a shell.
act() {
	if [ "$DRY_RUN" = 1 ]; then
		printf '    would run:'
		for _arg in "$@"; do
			case $_arg in
			*[!A-Za-z0-9_./:=@,+-]*) printf " '%s'" "$_arg" ;;
			*) printf ' %s' "$_arg" ;;
			esac
		done
		printf '\n'
	else
		"$@"
	fi
}

# put_file SRC DEST MODE OWNER: writes DEST atomically (a temp file beside it, then rename), so a reader or a
# running program never sees half a file, and replacing a running binary never fails with "text file busy".
put_file() {
	if [ "$DRY_RUN" = 1 ]; then
		printf '    would write %s (mode %s, owner %s)\n' "$2" "$3" "$4"
		return 0
	fi
	_tmp="$2.vigil-new.$$"
	cp "$1" "$_tmp"
	chmod "$3" "$_tmp"
	chown "$4" "$_tmp"
	mv -f "$_tmp" "$2"
}

remove_path() {
	if [ -e "$1" ] || [ -L "$1" ]; then
		act rm -rf "$1"
	fi
}

matches() { printf '%s' "$1" | grep -Eq "$2"; }

# The first value of KEY=value in the existing agent.env, so a re-run without flags keeps the settings.
existing_setting() {
	if [ -r "$ENV_FILE" ]; then
		sed -n "s/^$1=//p" "$ENV_FILE" | tail -n 1
	fi
}

download() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --retry 3 --connect-timeout 10 -o "$2" "$1" || die "download failed: $1 (is the head reachable from here?)"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -T 30 -O "$2" "$1" || die "download failed: $1 (is the head reachable from here?)"
	else
		die "neither curl nor wget is installed; install one and run this again"
	fi
}

# Units as systemd and polkit name them, and as the agent's allow-list wants them (agent/restart/allowlist.ts): exact
# names with a type suffix. A plain name gets ".service", as systemctl itself would add; a template needs an instance.
normalise_units() {
	_out=
	_old_ifs=$IFS
	IFS=,
	for _u in $1; do
		IFS=$_old_ifs
		_u=$(printf '%s' "$_u" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
		[ -n "$_u" ] || continue
		matches "$_u" '^[A-Za-z0-9][A-Za-z0-9:_.@-]{0,250}$' || die "--allow: '$_u' is not a systemd unit name"
		matches "$_u" '\.(service|socket|target|device|mount|automount|swap|timer|path|slice|scope)$' || _u="$_u.service"
		case $_u in
		*@.*) die "--allow: '$_u' is a template; name an instance of it, such as ${_u%%@*}@1.${_u##*.}" ;;
		esac
		_out="${_out:+$_out,}$_u"
	done
	IFS=$_old_ifs
	printf '%s' "$_out"
}

# JavaScript polkit rules (/etc/polkit-1/rules.d) exist since polkit 0.106. Ubuntu 22.04 and older ship 0.105, whose
# .pkla files cannot look at which unit or verb is asked for, so there the allow-list goes through sudo instead.
polkit_js_rules() {
	if command -v pkaction >/dev/null 2>&1; then
		_v=$(pkaction --version 2>/dev/null | sed -n 's/^pkaction version \([0-9][0-9.]*\).*/\1/p' | head -n 1)
		case $_v in
		0.*)
			_minor=${_v#0.}
			_minor=${_minor%%.*}
			[ "$_minor" -ge 106 ] 2>/dev/null && return 0
			return 1
			;;
		[1-9]*) return 0 ;;
		esac
	fi
	[ -d /usr/share/polkit-1/rules.d ] || [ -d /etc/polkit-1/rules.d ]
}

restart_method() {
	if [ -z "$ALLOW" ]; then
		echo none
	elif [ "$DRY_RUN" = 1 ] && [ -n "${VIGIL_INSTALL_RESTART_VIA:-}" ]; then
		# Tests only, and only in a dry run: show the polkit or the sudo path whatever this machine has.
		echo "$VIGIL_INSTALL_RESTART_VIA"
	elif polkit_js_rules; then
		echo polkit
	elif command -v sudo >/dev/null 2>&1 && command -v visudo >/dev/null 2>&1; then
		echo sudo
	else
		echo unavailable
	fi
}

write_unit() {
	cat >"$1" <<'VIGIL_UNIT_EOF'
@@VIGIL_AGENT_UNIT@@
VIGIL_UNIT_EOF
	if [ -n "$ROOT" ]; then
		# The unit's own paths follow the install root (scripts/deploy/units.ts does the same for the head's unit).
		sed -i "s#/var/lib/vigil-agent#$ROOT/var/lib/vigil-agent#g; s#/etc/vigil/#$ROOT/etc/vigil/#g" "$1"
	fi
}

# Lets user vigil run exactly "restart" on exactly the allow-listed units through systemd's D-Bus API, and nothing
# else: systemd asks polkit about org.freedesktop.systemd1.manage-units and passes the unit and the verb as details.
write_polkit_rule() {
	_list=$(printf '%s' "$ALLOW" | sed 's/[^,][^,]*/"&"/g')
	cat >"$1" <<EOF
// Written by Vigil's install.sh: the vigil agent may restart exactly these units, nothing else. Re-run install.sh to change.
polkit.addRule(function (action, subject) {
  if (action.id == "org.freedesktop.systemd1.manage-units" && subject.user == "$SERVICE_USER") {
    var allowed = [$_list];
    if (action.lookup("verb") == "restart" && allowed.indexOf(action.lookup("unit")) >= 0) {
      return polkit.Result.YES;
    }
  }
});
EOF
}

# The fallback: sudo with exact argument lists, so "systemctl restart [--] UNIT" for these units is all it permits
# (the agent's executor runs "systemctl restart -- UNIT"; the form without "--" is for people testing by hand).
write_sudoers() {
	_systemctl=$(command -v systemctl || echo /usr/bin/systemctl)
	{
		echo "# Written by Vigil's install.sh: the vigil agent may restart exactly these units, nothing else. Re-run install.sh to change."
		_cmds=
		_old_ifs=$IFS
		IFS=,
		for _u in $ALLOW; do
			# ':' separates fields in sudoers and must be escaped inside an argument (as in getty@tty1:x.service).
			_u=$(printf '%s' "$_u" | sed 's/:/\\:/g')
			_cmds="${_cmds:+$_cmds, }$_systemctl restart -- $_u, $_systemctl restart $_u"
		done
		IFS=$_old_ifs
		echo "$SERVICE_USER ALL=(root) NOPASSWD: $_cmds"
	} >"$1"
}

# sudo is setuid, and for a non-root service every seccomp-based option implies NoNewPrivileges=yes, which makes
# setuid a no-op. With the sudo fallback those are switched off; the file-system protections stay.
write_sudo_dropin() {
	cat >"$1" <<'EOF'
# Written by Vigil's install.sh: restarts go through sudo (no polkit with JavaScript rules here), and sudo needs setuid.
[Service]
NoNewPrivileges=no
RestrictSUIDSGID=no
ProtectKernelTunables=no
ProtectKernelModules=no
ProtectKernelLogs=no
ProtectHostname=no
RestrictNamespaces=no
RestrictRealtime=no
LockPersonality=no
RestrictAddressFamilies=
SystemCallArchitectures=
SystemCallFilter=
# The unit bounds the service to no capabilities; setuid sudo needs them back (~ with nothing after it: all).
CapabilityBoundingSet=~
EOF
}

write_env() {
	{
		echo "# Vigil agent settings, written by install.sh (re-run it to change them). systemd reads this file as root."
		printf 'VIGIL_HEAD=%s\n' "$HEAD"
		printf 'VIGIL_TOKEN=%s\n' "$TOKEN"
		if [ -n "$NAME" ]; then
			printf 'VIGIL_WORKER_NAME=%s\n' "$NAME"
		else
			echo "# VIGIL_WORKER_NAME unset: the agent reports the host name"
		fi
		printf 'VIGIL_RESTART_ALLOW=%s\n' "$ALLOW"
		echo "# How the agent runs allow-listed restarts: polkit (systemctl restart), sudo (sudo -n systemctl restart) or none."
		printf 'VIGIL_RESTART_VIA=%s\n' "$METHOD"
		printf 'VIGIL_AGENT_DIR=%s\n' "$AGENT_DIR"
	} >"$1"
}

systemd_running() {
	if [ -n "$ROOT" ]; then
		command -v systemctl >/dev/null 2>&1
	else
		[ -d /run/systemd/system ]
	fi
}

# The groups owning the NVIDIA device nodes. Most drivers make /dev/nvidia* world-readable (mode 0666), but
# NVreg_DeviceFileMode/NVreg_DeviceFileGID can restrict them to a group (usually "video"); without it NVML fails
# with "insufficient permissions" and the agent falls back to reporting no GPUs.
gpu_groups() {
	{
		for _dev in /dev/nvidiactl /dev/nvidia[0-9]* /dev/nvidia-uvm; do
			[ -e "$_dev" ] && stat -c %G "$_dev" 2>/dev/null
		done
		getent group video >/dev/null 2>&1 && echo video
	} | grep -v -x -e root -e UNKNOWN | sort -u | tr '\n' ' '
}

nologin_shell() {
	for _s in /usr/sbin/nologin /sbin/nologin; do
		[ -x "$_s" ] && {
			echo "$_s"
			return
		}
	done
	echo /bin/false
}

head_unit_present() {
	[ -e "$ROOT/etc/systemd/system/vigil-head.service" ] || [ -e "$ROOT/lib/systemd/system/vigil-head.service" ] ||
		[ -e "$ROOT/usr/lib/systemd/system/vigil-head.service" ]
}

uninstall() {
	say "removing the Vigil agent"
	if systemd_running && [ -e "$UNIT_FILE" ]; then
		act systemctl disable --now "$UNIT_NAME"
	fi
	remove_path "$UNIT_FILE"
	remove_path "$DROPIN_DIR"
	remove_path "$POLKIT_RULE"
	remove_path "$SUDOERS_FILE"
	remove_path "$ENV_FILE"
	remove_path "$AGENT_DIR"
	if [ -d "$ETC_DIR" ]; then
		if [ "$DRY_RUN" = 1 ]; then
			note "would remove $ETC_DIR if nothing else is in it"
		else
			rmdir "$ETC_DIR" 2>/dev/null || note "kept $ETC_DIR (other files in it)"
		fi
	fi
	# A head on this machine runs the same binary as the same user: leave both to it.
	if head_unit_present; then
		note "kept $CLI_BIN and user $SERVICE_USER: vigil-head.service uses them"
	else
		remove_path "$CLI_BIN"
		if [ -z "$ROOT" ] && id "$SERVICE_USER" >/dev/null 2>&1; then
			act userdel "$SERVICE_USER"
		fi
	fi
	if systemd_running; then
		act systemctl daemon-reload
	fi
	say "done${DRY_RUN_NOTE}"
}

install_agent() {
	HEAD=${HEAD%/}
	matches "$HEAD" '^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$' ||
		die "'$HEAD' is not the head's URL (http(s)://host[:port])"

	# A re-run without flags is an update: keep what the last run wrote.
	[ "$TOKEN_SET" = 1 ] || TOKEN=$(existing_setting VIGIL_TOKEN)
	[ "$NAME_SET" = 1 ] || NAME=$(existing_setting VIGIL_WORKER_NAME)
	if [ "$ALLOW_SET" = 1 ]; then ALLOW=$(normalise_units "$ALLOW"); else ALLOW=$(existing_setting VIGIL_RESTART_ALLOW); fi
	[ -n "$TOKEN" ] || die "--token is required on the first install (the head prints it: vigil worker add NAME)"
	# Values go into agent.env unquoted, so they are held to characters with no meaning there.
	matches "$TOKEN" '^[A-Za-z0-9._~+/=:-]{8,512}$' || die "--token: unexpected characters or length"
	[ -z "$NAME" ] || matches "$NAME" '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' || die "--name '$NAME': use 1-63 letters, digits, '.', '_' or '-'"
	METHOD=$(restart_method)

	# First, so the unrendered template fails before it downloads anything.
	write_unit "$WORK/unit"
	grep -q '^\[Service\]' "$WORK/unit" || die "this is the unrendered template; fetch the script from the head: curl -fsSL http://HEAD:8480/install.sh"

	say "installing the Vigil agent${VIGIL_HEAD_VERSION:+ $VIGIL_HEAD_VERSION} from $HEAD${DRY_RUN_NOTE}"

	if [ -n "$BINARY_FILE" ]; then
		[ -f "$BINARY_FILE" ] || die "--binary $BINARY_FILE: no such file"
		say "using $BINARY_FILE"
		cp "$BINARY_FILE" "$WORK/vigil"
		note "sha256 $(sha256sum "$WORK/vigil" | cut -d ' ' -f 1)"
	else
		say "downloading $HEAD/download/$BINARY_NAME"
		download "$HEAD/download/$BINARY_NAME" "$WORK/vigil"
		download "$HEAD/download/$BINARY_NAME.sha256" "$WORK/vigil.sha256"
		expected=
		read -r expected _rest <"$WORK/vigil.sha256" || true
		matches "$expected" '^[0-9a-f]{64}$' || die "the head's checksum file is not a sha256: $expected"
		actual=$(sha256sum "$WORK/vigil" | cut -d ' ' -f 1)
		[ "$actual" = "$expected" ] || die "checksum mismatch: downloaded $actual, the head says $expected; nothing was installed"
		note "verified sha256 $actual"
	fi

	say "installing $CLI_BIN"
	act install -d -m 0755 "${CLI_BIN%/*}"
	put_file "$WORK/vigil" "$CLI_BIN" 0755 "$(id -un):$(id -gn)"
	if [ "$DRY_RUN" != 1 ]; then
		# Runs from its final directory: /tmp may be mounted noexec.
		"$CLI_BIN" version >/dev/null || die "$CLI_BIN does not run on this machine ($(uname -sm))"
	fi

	say "system user $SERVICE_USER"
	if [ -n "$ROOT" ]; then
		note "skipped under VIGIL_INSTALL_ROOT: files belong to $SERVICE_OWNER"
	elif id "$SERVICE_USER" >/dev/null 2>&1; then
		note "exists"
	else
		act useradd --system --user-group --home-dir "$AGENT_DIR" --no-create-home --shell "$(nologin_shell)" --comment "Vigil agent" "$SERVICE_USER"
	fi
	if [ -z "$ROOT" ]; then
		for group in $(gpu_groups); do
			note "adding $SERVICE_USER to group $group (NVIDIA device nodes may be restricted to it)"
			act usermod -a -G "$group" "$SERVICE_USER"
		done
	fi

	say "installing $AGENT_BIN (the copy the service runs and updates itself)"
	act install -d -m 0750 -o "$SERVICE_OWNER" -g "$SERVICE_OWNER" "$AGENT_DIR"
	act install -d -m 0755 -o "$SERVICE_OWNER" -g "$SERVICE_OWNER" "$AGENT_DIR/bin"
	put_file "$WORK/vigil" "$AGENT_BIN" 0755 "$SERVICE_OWNER:$SERVICE_OWNER"

	say "writing $ENV_FILE"
	write_env "$WORK/agent.env"
	sed 's/^\(VIGIL_TOKEN=....\).*/\1... (hidden)/; s/^/      /' "$WORK/agent.env"
	act install -d -m 0755 "$ETC_DIR"
	# 0600: the token is a credential. Owned by vigil so `sudo -u vigil vigil agent --once` can read it too.
	put_file "$WORK/agent.env" "$ENV_FILE" 0600 "$SERVICE_OWNER:$SERVICE_OWNER"

	say "installing $UNIT_FILE"
	unit_existed=0
	[ -e "$UNIT_FILE" ] && unit_existed=1
	act install -d -m 0755 "${UNIT_FILE%/*}"
	put_file "$WORK/unit" "$UNIT_FILE" 0644 "$(id -un):$(id -gn)"

	say "restarts allowed: ${ALLOW:-none}"
	case $METHOD in
	polkit)
		note "through polkit: $POLKIT_RULE"
		write_polkit_rule "$WORK/polkit.rules"
		sed 's/^/      /' "$WORK/polkit.rules"
		act install -d -m 0755 "${POLKIT_RULE%/*}"
		put_file "$WORK/polkit.rules" "$POLKIT_RULE" 0644 root:root
		remove_path "$SUDOERS_FILE"
		remove_path "$SUDO_DROPIN"
		;;
	sudo)
		note "through sudo: $SUDOERS_FILE (this polkit cannot check unit names; the drop-in $SUDO_DROPIN lets sudo work)"
		write_sudoers "$WORK/sudoers"
		sed 's/^/      /' "$WORK/sudoers"
		if command -v visudo >/dev/null 2>&1; then
			visudo -cf "$WORK/sudoers" >/dev/null || die "visudo rejected the generated sudoers file: $(cat "$WORK/sudoers")"
		else
			# Reached only through VIGIL_INSTALL_RESTART_VIA=sudo in a dry run: restart_method requires visudo otherwise.
			note "visudo is not installed here: the file above was not validated"
		fi
		put_file "$WORK/sudoers" "$SUDOERS_FILE" 0440 root:root
		write_sudo_dropin "$WORK/dropin"
		act install -d -m 0755 "$DROPIN_DIR"
		put_file "$WORK/dropin" "$SUDO_DROPIN" 0644 root:root
		remove_path "$POLKIT_RULE"
		;;
	*)
		[ "$METHOD" = none ] || warn "neither polkit (0.106 or newer) nor sudo is installed: the head cannot restart ${ALLOW} here"
		remove_path "$POLKIT_RULE"
		remove_path "$SUDOERS_FILE"
		remove_path "$SUDO_DROPIN"
		;;
	esac

	if ! systemd_running; then
		warn "systemd is not running here: start '$AGENT_BIN agent' yourself, as user $SERVICE_USER with the settings in $ENV_FILE"
		if [ "$DRY_RUN" != 1 ]; then
			say "installed, not started"
			return 0
		fi
	fi
	say "starting $UNIT_NAME"
	act systemctl daemon-reload
	if [ "$unit_existed" = 1 ]; then
		# enable --now leaves a running agent on the old binary and settings.
		act systemctl enable "$UNIT_NAME"
		act systemctl restart "$UNIT_NAME"
	else
		act systemctl enable --now "$UNIT_NAME"
	fi
	if [ "$DRY_RUN" != 1 ]; then
		sleep 2
		if systemctl is-active --quiet "$UNIT_NAME"; then
			note "running; logs: journalctl -u $UNIT_NAME -f"
		else
			warn "$UNIT_NAME is not running; see: journalctl -u $UNIT_NAME -n 50"
		fi
	fi
	say "done${DRY_RUN_NOTE}"
}

main() {
	ARGS="$*"
	HEAD=$VIGIL_HEAD_URL
	TOKEN='' TOKEN_SET=0
	NAME='' NAME_SET=0
	ALLOW='' ALLOW_SET=0
	BINARY_FILE=''
	DRY_RUN=0 UNINSTALL=0
	while [ $# -gt 0 ]; do
		case $1 in
		--token | --name | --allow | --head | --binary)
			[ $# -ge 2 ] || die "$1 needs a value"
			case $1 in
			--token) TOKEN=$2 TOKEN_SET=1 ;;
			--name) NAME=$2 NAME_SET=1 ;;
			--allow) ALLOW=$2 ALLOW_SET=1 ;;
			--head) HEAD=$2 ;;
			--binary) BINARY_FILE=$2 ;;
			esac
			shift 2
			;;
		--token=*) TOKEN=${1#*=} TOKEN_SET=1 && shift ;;
		--name=*) NAME=${1#*=} NAME_SET=1 && shift ;;
		--allow=*) ALLOW=${1#*=} ALLOW_SET=1 && shift ;;
		--head=*) HEAD=${1#*=} && shift ;;
		--binary=*) BINARY_FILE=${1#*=} && shift ;;
		--dry-run) DRY_RUN=1 && shift ;;
		--uninstall) UNINSTALL=1 && shift ;;
		-h | --help)
			usage
			exit 0
			;;
		*) die "unknown option '$1' (see --help)" ;;
		esac
	done
	DRY_RUN_NOTE=
	[ "$DRY_RUN" = 1 ] && DRY_RUN_NOTE=" (dry run: nothing was changed)"

	[ "$(uname -s)" = Linux ] || die "the Vigil agent runs on Linux; this is $(uname -s)"
	case $(uname -m) in
	x86_64 | amd64) ;;
	*) die "the head serves a Linux x86_64 binary; this machine is $(uname -m)" ;;
	esac
	if [ "$(id -u)" != 0 ]; then
		if [ "$DRY_RUN" = 1 ] && [ "${VIGIL_INSTALL_ALLOW_NONROOT:-}" = 1 ]; then
			warn "not root: VIGIL_INSTALL_ALLOW_NONROOT=1 (tests only), dry run"
		else
			die "run as root: curl -fsSL $HEAD/install.sh | sudo sh -s -- $ARGS"
		fi
	fi
	case $HEAD in
	@@*) die "this is the unrendered template; fetch the script from the head (curl -fsSL http://HEAD:8480/install.sh) or pass --head URL" ;;
	esac

	WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-install.XXXXXX")
	trap 'rm -rf "$WORK"' EXIT
	trap 'exit 130' INT TERM

	if [ "$UNINSTALL" = 1 ]; then
		uninstall
	else
		install_agent
	fi
}

# Everything is in functions and runs from this last line: with `curl | sh` the shell reads the script from the pipe
# as it goes, and a command reading stdin could otherwise swallow the rest of the script.
main "$@"
