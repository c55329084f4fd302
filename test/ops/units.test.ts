// The systemd units, the polkit rule and the sudoers entry: hardened, verified by systemd where it is installed, and the same as what scripts/install.sh writes.
import { describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { REPO, tempDir } from "../harness/process.ts";

const INSTALL_SH = readFileSync(join(REPO, "scripts/install.sh"), "utf8");
const CONFIG_TS = readFileSync(join(REPO, "src/config.ts"), "utf8");
const UNIT_FILES = { head: "scripts/systemd/vigil-head.service", agent: "scripts/systemd/vigil-agent.service" } as const;
const POLKIT_TEMPLATE = join(REPO, "deploy/polkit/50-vigil-agent.rules");
const SUDOERS_TEMPLATE = join(REPO, "deploy/sudoers/vigil-agent");
const PLACEHOLDER = "@@VIGIL_RESTART_UNIT@@";
const MANAGE_UNITS = "org.freedesktop.systemd1.manage-units";

const has = (cmd: string) => Bun.which(cmd) !== null;
const read = (path: string) => readFileSync(join(REPO, path), "utf8");

/** A unit file as systemd reads it: sections of key=value pairs in order, keys repeatable, comments and continuations handled. */
type Unit = Map<string, [string, string][]>;

function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: [string, string][] | undefined;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = unit.get(header[1]!) ?? [];
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0 || !section) throw new Error(`not a unit line: ${line}`);
    section.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return unit;
}

/** Every value of KEY in SECTION, in order. */
function values(unit: Unit, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

/** The value systemd ends up with for a single-valued setting: the last assignment wins. */
function last(unit: Unit, section: string, key: string): string | undefined {
  return values(unit, section, key).at(-1);
}

/** A shell variable as install.sh sets it at the top (NAME=value, $OTHER expanded). */
function installVar(name: string): string {
  // The test-only install root (VIGIL_INSTALL_ROOT) is empty on a real install: paths are the system's own.
  if (name === "ROOT") return "";
  const m = new RegExp(`^${name}=(\\S+)$`, "m").exec(INSTALL_SH);
  if (!m) throw new Error(`scripts/install.sh sets no ${name}`);
  return m[1]!.replace(/\$([A-Z_]+)/g, (_, v: string) => installVar(v));
}

/** One shell function of install.sh, from `name() {` to the closing `}` at the start of a line. */
function installFunction(name: string): string {
  const m = new RegExp(`^${name}\\(\\) \\{\\n[\\s\\S]*?^\\}$`, "m").exec(INSTALL_SH);
  if (!m) throw new Error(`scripts/install.sh has no function ${name}`);
  return m[0];
}

/** Runs an install.sh function that writes a file, with the given shell variables, and returns what it wrote. */
function runInstallFunction(name: string, vars: Record<string, string>, path = process.env.PATH ?? ""): string {
  const dir = tempDir("vigil-ops-");
  try {
    const out = join(dir, "out");
    const assignments = Object.entries(vars)
      .map(([k, v]) => `${k}='${v.replaceAll("'", `'\\''`)}'`)
      .join("\n");
    const script = `set -eu\n${installFunction(name)}\n${assignments}\n${name} "$1"\n`;
    const r = Bun.spawnSync(["sh", "-c", script, "sh", out], { env: { PATH: path }, stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`${name} failed: ${r.stderr.toString()}`);
    return readFileSync(out, "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lines that are not comments: what polkitd or sudo act on. */
function codeLines(text: string, comment: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "" && !l.trimStart().startsWith(comment));
}

const units = {
  head: parseUnit(read(UNIT_FILES.head)),
  agent: parseUnit(read(UNIT_FILES.agent)),
};

describe.each(Object.entries(UNIT_FILES))("%s unit", (kind, file) => {
  const unit = units[kind as keyof typeof units];
  const svc = (key: string) => last(unit, "Service", key);

  test("restarts on failure, never giving up, and is wanted at boot", () => {
    expect(svc("Restart")).toBe("on-failure");
    expect(last(unit, "Unit", "StartLimitIntervalSec")).toBe("0");
    expect(last(unit, "Install", "WantedBy")).toBe("multi-user.target");
  });

  test("runs as user vigil with no privileges or capabilities to gain", () => {
    expect(svc("User")).toBe(installVar("SERVICE_USER"));
    expect(svc("NoNewPrivileges")).toBe("yes");
    // Empty: no capabilities, even through a setuid or file-capability binary.
    expect(svc("CapabilityBoundingSet")).toBe("");
    expect(svc("AmbientCapabilities") ?? "").toBe("");
    expect(svc("RestrictSUIDSGID")).toBe("yes");
  });

  test("sees the file system read-only except its own state directory", () => {
    expect(svc("ProtectSystem")).toBe("strict");
    expect(svc("ProtectHome")).toBe("yes");
    expect(svc("PrivateTmp")).toBe("yes");
    for (const key of ["ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups"]) {
      expect(svc(key), key).toBe("yes");
    }
    // The directory the program writes: VIGIL_DATA_DIR for the head, VIGIL_AGENT_DIR (set by install.sh) for the agent.
    const dataDir = kind === "head" ? /^VIGIL_DATA_DIR=(.+)$/.exec(svc("Environment") ?? "")?.[1] : installVar("AGENT_DIR");
    expect(dataDir).toBeDefined();
    // Under ProtectSystem=strict only StateDirectory= (always writable, owned by the user) and ReadWritePaths= are writable.
    const writable = [
      ...values(unit, "Service", "StateDirectory").flatMap((v) => v.split(/\s+/).map((d) => `/var/lib/${d}`)),
      ...values(unit, "Service", "ReadWritePaths").flatMap((v) => v.split(/\s+/).map((d) => d.replace(/^[-+]/, ""))),
    ];
    expect(writable).toContain(dataDir!);
    expect(svc("WorkingDirectory")).toBe(dataDir!);
  });

  test("reaches only Unix, IP and netlink sockets", () => {
    const families = (svc("RestrictAddressFamilies") ?? "").split(/\s+/);
    expect(families).toEqual(expect.arrayContaining(["AF_UNIX", "AF_INET", "AF_INET6"]));
    expect(families.filter((f) => !["AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"].includes(f))).toEqual([]);
  });

  test("keeps /dev/nvidia* reachable for NVML, and says so", () => {
    // NVML opens /dev/nvidiactl, /dev/nvidiaN, /dev/nvidia-uvm and /dev/nvidia-caps/* read-write; any of these would hide them.
    expect(svc("PrivateDevices")).toBe("no");
    expect(svc("DevicePolicy") ?? "auto").toBe("auto");
    expect(values(unit, "Service", "DeviceAllow")).toEqual([]);
    expect(svc("ProtectClock")).toBeUndefined();
    expect(read(file)).toMatch(/# .*\/dev\/nvidia/);
  });

  test("keeps the system call set to the usual service calls, failing with EPERM", () => {
    expect(svc("SystemCallFilter")).toBe("@system-service");
    expect(svc("SystemCallErrorNumber")).toBe("EPERM");
    expect(svc("SystemCallArchitectures")).toBe("native");
    // Bun's JIT writes code pages: MemoryDenyWriteExecute=yes would kill it at start.
    expect(svc("MemoryDenyWriteExecute")).toBeUndefined();
  });
});

describe("the units and scripts/install.sh", () => {
  const agent = (key: string) => last(units.agent, "Service", key);
  const head = (key: string) => last(units.head, "Service", key);

  test("the agent runs the copy install.sh puts in its state directory, with the settings it writes", () => {
    expect(agent("ExecStart")).toBe(`${installVar("AGENT_BIN")} agent`);
    expect(agent("EnvironmentFile")).toBe(installVar("ENV_FILE"));
    expect(`/var/lib/${agent("StateDirectory")}`).toBe(installVar("AGENT_DIR"));
    expect(agent("Group")).toBe(installVar("SERVICE_USER"));
    expect(basename(installVar("UNIT_FILE"))).toBe(basename(UNIT_FILES.agent));
  });

  test("every setting install.sh writes into agent.env is one that src/config.ts reads", () => {
    const written = [...installFunction("write_env").matchAll(/printf '([A-Z_]+)=%s\\n'/g)].map((m) => m[1]!);
    expect(written).toEqual(
      expect.arrayContaining(["VIGIL_HEAD", "VIGIL_TOKEN", "VIGIL_RESTART_ALLOW", "VIGIL_RESTART_VIA", "VIGIL_AGENT_DIR"]),
    );
    for (const name of written) expect(CONFIG_TS, name).toContain(`env: "${name}"`);
    // The unit's comment lists them, so someone reading it knows what the file holds.
    const comment = read(UNIT_FILES.agent)
      .split("\n")
      .filter((l) => l.startsWith("#"))
      .join(" ");
    for (const name of written) expect(comment, name).toContain(name);
  });

  test("the head runs install.sh's CLI binary on its state directory, as the user polkit knows", () => {
    expect(head("ExecStart")).toBe(`${installVar("CLI_BIN")} serve`);
    expect(values(units.head, "Service", "Environment")).toContain(`VIGIL_DATA_DIR=/var/lib/${head("StateDirectory")}`);
    expect(head("EnvironmentFile")).toBe(`-${installVar("ETC_DIR")}/head.env`);
    // install.sh's uninstall keeps the binary and the user when this unit is installed; it looks for it by this name.
    expect(INSTALL_SH).toContain(`/etc/systemd/system/${basename(UNIT_FILES.head)}`);
  });

  // systemd.exec(5): for a service that is not root, each of these implies NoNewPrivileges=yes, under which the setuid
  // bit of sudo does nothing. An empty CapabilityBoundingSet= leaves sudo's root with no capabilities at all.
  const IMPLY_NO_NEW_PRIVILEGES = [
    "NoNewPrivileges",
    "SystemCallFilter",
    "SystemCallArchitectures",
    "RestrictAddressFamilies",
    "RestrictNamespaces",
    "PrivateDevices",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectKernelLogs",
    "ProtectClock",
    "MemoryDenyWriteExecute",
    "RestrictRealtime",
    "RestrictSUIDSGID",
    "LockPersonality",
  ];
  const sudoDropin = parseUnit(/cat >"\$1" <<'EOF'\n([\s\S]*?)\nEOF/.exec(installFunction("write_sudo_dropin"))![1]!);

  test("install.sh's sudo drop-in undoes every option of the agent unit that would stop setuid sudo", () => {
    const blocking = IMPLY_NO_NEW_PRIVILEGES.filter((key) => {
      const v = agent(key);
      return v !== undefined && v !== "" && v !== "no";
    });
    const notUndone = blocking.filter((key) => !["", "no"].includes(last(sudoDropin, "Service", key) ?? "unset"));
    expect(notUndone).toEqual([]);
    // "=~" (nothing inverted) sets the full set again; anything else leaves sudo without CAP_SETUID.
    if (agent("CapabilityBoundingSet") !== undefined) {
      expect(last(sudoDropin, "Service", "CapabilityBoundingSet"), "write_sudo_dropin needs CapabilityBoundingSet=~").toBe("~");
    }
  });

  test.skipIf(!has("systemd-analyze"))(
    "systemd, given the agent unit and the sudo drop-in, lets the service gain root through sudo (skipped without systemd-analyze)",
    () => {
      const root = tempDir("vigil-ops-root-");
      try {
        const system = join(root, "etc/systemd/system");
        mkdirSync(join(system, "vigil-agent.service.d"), { recursive: true });
        writeFileSync(join(system, "vigil-agent.service"), read(UNIT_FILES.agent));
        const dropin = /cat >"\$1" <<'EOF'\n([\s\S]*?)\nEOF/.exec(installFunction("write_sudo_dropin"))![1]!;
        writeFileSync(join(system, "vigil-agent.service.d", basename(installVar("SUDO_DROPIN"))), `${dropin}\n`);
        const r = Bun.spawnSync(["systemd-analyze", "security", "--offline=true", `--root=${root}`, "vigil-agent.service"], {
          stdout: "pipe",
          stderr: "pipe",
        });
        const out = r.stdout.toString();
        expect(out, r.stderr.toString()).toMatch(/✗ NoNewPrivileges=/);
        expect(out).toMatch(/✗ CapabilityBoundingSet=~CAP_SET\(UID\|GID\|PCAP\)/);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  );
});

/** The units as systemd-analyze needs them: ExecStart pointed at a binary that exists here. */
function verifiableUnits(dir: string): string[] {
  return Object.values(UNIT_FILES).map((path) => {
    const target = join(dir, basename(path));
    writeFileSync(target, read(path).replace(/^ExecStart=\S+/m, "ExecStart=/bin/true"));
    return target;
  });
}

describe.skipIf(!has("systemd-analyze"))("systemd-analyze (skipped when it is not installed)", () => {
  test("verify accepts both units", () => {
    const dir = tempDir("vigil-ops-verify-");
    try {
      const r = Bun.spawnSync(["systemd-analyze", "verify", ...verifiableUnits(dir)], { cwd: dir, stdout: "pipe", stderr: "pipe" });
      // Outside a booted system it cannot load the default dependencies (sysinit.target); everything else must be clean.
      const problems = r.stderr
        .toString()
        .split("\n")
        .filter((l) => l.trim() && !/Unit sysinit\.target not found/.test(l));
      expect(problems).toEqual([]);
      expect(r.exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("security rates both units' exposure low (at most 3 of 10)", () => {
    const dir = tempDir("vigil-ops-security-");
    try {
      for (const path of verifiableUnits(dir)) {
        const r = Bun.spawnSync(["systemd-analyze", "security", "--offline=true", path], { stdout: "pipe", stderr: "pipe" });
        const m = /Overall exposure level for \S+: ([\d.]+)/.exec(r.stdout.toString());
        expect(m, `${path}: ${r.stderr.toString()}`).not.toBeNull();
        expect(Number(m![1]), basename(path)).toBeLessThanOrEqual(3);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

type Rule = (action: unknown, subject: unknown) => unknown;

/** Loads a polkit rules file into a stand-in for polkitd's JavaScript API and returns its decision function. */
function polkitDecider(source: string) {
  const rules: Rule[] = [];
  const polkit = { Result: { YES: "yes", NO: "no", AUTH_ADMIN: "auth_admin" }, addRule: (f: Rule) => rules.push(f) };
  new Function("polkit", source)(polkit);
  expect(rules).toHaveLength(1);
  return (id: string, user: string, verb: string, unit: string) =>
    rules[0]!({ id, lookup: (k: string) => ({ verb, unit })[k as "verb" | "unit"] }, { user, local: true, active: true });
}

describe("deploy/polkit/50-vigil-agent.rules", () => {
  const template = readFileSync(POLKIT_TEMPLATE, "utf8");
  const ALLOW = ["comfyui.service", "ollama.service"];
  // The code line only: the comments above it quote the placeholder too.
  const render = (units: string[]) =>
    template.replace(
      /^(\s*var allowed = \[)"@@VIGIL_RESTART_UNIT@@"(\];)$/m,
      (_, a: string, b: string) => a + units.map((u) => JSON.stringify(u)).join(",") + b,
    );

  test("is, filled in, the rule install.sh writes", () => {
    const written = runInstallFunction("write_polkit_rule", { ALLOW: ALLOW.join(","), SERVICE_USER: installVar("SERVICE_USER") });
    expect(codeLines(render(ALLOW), "//")).toEqual(codeLines(written, "//"));
    expect(installVar("POLKIT_RULE")).toBe(`/etc/polkit-1/rules.d/${basename(POLKIT_TEMPLATE)}`);
  });

  test("lets user vigil restart the listed units, and nothing else", () => {
    const decide = polkitDecider(render(ALLOW));
    expect(decide(MANAGE_UNITS, "vigil", "restart", "comfyui.service")).toBe("yes");
    expect(decide(MANAGE_UNITS, "vigil", "restart", "ollama.service")).toBe("yes");
    for (const verb of ["start", "stop", "reload", "try-restart", "reload-or-restart", "kill", "enable"]) {
      expect(decide(MANAGE_UNITS, "vigil", verb, "comfyui.service"), verb).toBeUndefined();
    }
    for (const unit of ["sshd.service", "comfyui", "comfyui.service.d", "vigil-agent.service", ""]) {
      expect(decide(MANAGE_UNITS, "vigil", "restart", unit), unit).toBeUndefined();
    }
    for (const user of ["root", "alice", "vigil2", "Vigil"]) {
      expect(decide(MANAGE_UNITS, user, "restart", "comfyui.service"), user).toBeUndefined();
    }
    for (const id of [
      "org.freedesktop.systemd1.manage-unit-files",
      "org.freedesktop.systemd1.reload-daemon",
      "org.freedesktop.login1.reboot",
    ]) {
      expect(decide(id, "vigil", "restart", "comfyui.service"), id).toBeUndefined();
    }
  });

  test("left unfilled, it is valid JavaScript that allows nothing", () => {
    const decide = polkitDecider(template);
    expect(decide(MANAGE_UNITS, "vigil", "restart", "comfyui.service")).toBeUndefined();
    expect(decide(MANAGE_UNITS, "vigil", "restart", PLACEHOLDER)).toBe("yes"); // a name systemd refuses as a unit
  });
});

describe("deploy/sudoers/vigil-agent", () => {
  const template = readFileSync(SUDOERS_TEMPLATE, "utf8");
  const ALLOW = ["comfyui.service", "getty@tty1:x.service"];

  /** The template filled in as install.sh does: systemctl's path, one command pair per unit, ':' escaped. */
  function render(units: string[], systemctl: string): string {
    return template.replace(/^(vigil ALL=\(root\) NOPASSWD: )(.*)$/m, (_, lead: string, pair: string) => {
      const filled = units.map((u) => pair.replaceAll(PLACEHOLDER, u.replaceAll(":", "\\:")).replaceAll("/usr/bin/systemctl", systemctl));
      return lead + filled.join(", ");
    });
  }

  test("is, filled in, the entry install.sh writes", () => {
    // install.sh writes the path `command -v systemctl` finds: give it one it will find.
    const bin = tempDir("vigil-ops-bin-");
    try {
      writeFileSync(join(bin, "systemctl"), "#!/bin/sh\nexit 0\n");
      chmodSync(join(bin, "systemctl"), 0o755);
      const written = runInstallFunction(
        "write_sudoers",
        { ALLOW: ALLOW.join(","), SERVICE_USER: installVar("SERVICE_USER") },
        `${bin}:${process.env.PATH}`,
      );
      expect(codeLines(render(ALLOW, join(bin, "systemctl")), "#")).toEqual(codeLines(written, "#"));
      expect(installVar("SUDOERS_FILE")).toBe(`/etc/sudoers.d/${basename(SUDOERS_TEMPLATE)}`);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  test("grants exactly `systemctl restart [--] UNIT` for the listed units, as root, to vigil alone", () => {
    const lines = codeLines(render(ALLOW, "/usr/bin/systemctl"), "#");
    expect(lines).toEqual([
      "vigil ALL=(root) NOPASSWD: /usr/bin/systemctl restart -- comfyui.service, /usr/bin/systemctl restart comfyui.service, " +
        "/usr/bin/systemctl restart -- getty@tty1\\:x.service, /usr/bin/systemctl restart getty@tty1\\:x.service",
    ]);
    // No wildcard, no "ALL" command, no shell.
    expect(lines[0]!.split("NOPASSWD:")[1]).not.toMatch(/\*|\bALL\b|sh\b/);
  });

  test.skipIf(!has("visudo"))("visudo accepts it filled in, and unfilled (skipped when visudo is not installed)", () => {
    const dir = tempDir("vigil-ops-sudoers-");
    try {
      const filled = join(dir, "filled");
      writeFileSync(filled, render(ALLOW, "/usr/bin/systemctl"));
      const unfilled = join(dir, "unfilled");
      copyFileSync(SUDOERS_TEMPLATE, unfilled);
      for (const file of [filled, unfilled]) {
        // -c only checks, -f names the file; sudo would ignore (and visudo warn about) a file others can write.
        chmodSync(file, 0o440);
        const r = Bun.spawnSync(["visudo", "-c", "-f", file], { stdout: "pipe", stderr: "pipe" });
        expect(r.exitCode, `${basename(file)}: ${r.stdout.toString()}${r.stderr.toString()}`).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
