// The install routes and what they hand out: the rendered installer (and its refusal of forged hosts), install.sh itself, the units, the binary download.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { accessOf } from "../app.ts";
import { peerAddress } from "../auth/peer.ts";
import { startTestHead, type TestHead } from "../../test/harness/head.ts";
import { REPO, freePort, spawnVigil, tempDir, type VigilProcess } from "../../test/harness/process.ts";
import { runInstaller, sha256Hex, startFakeHead, type FakeHead } from "../../test/install/fake-head.ts";
import { binaryInfo, installRoutes, renderInstallScript, validHost } from "./install.ts";
import { ROUTE_GROUPS } from "./index.ts";

const TEMPLATE = join(REPO, "scripts/install.sh");
const UNITS = ["vigil-agent.service", "vigil-head.service"].map((u) => join(REPO, "scripts/systemd", u));
const has = (cmd: string) => Bun.which(cmd) !== null;

function shSyntax(script: string) {
  const r = Bun.spawnSync(["sh", "-n"], { stdin: new TextEncoder().encode(script), stderr: "pipe" });
  return { code: r.exitCode, stderr: r.stderr.toString() };
}

let head: TestHead;
let app: ReturnType<typeof installRoutes>;
beforeAll(async () => {
  head = await startTestHead("pglite");
  app = new Elysia().use(installRoutes(head.ctx));
}, 60_000);
afterAll(() => head?.close());

function get(path: string, headers: Record<string, string> = {}, peer = "192.0.2.10", on = app) {
  const req = new Request(`http://vigil.test${path}`, { headers: { host: "vigil.test", ...headers } });
  peerAddress.set(req, peer);
  return on.handle(req);
}

describe("GET /install.sh", () => {
  test("renders the address the request was sent to into a script that sh parses", async () => {
    const res = await get("/install.sh", { host: "head.lan:8480" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/x-shellscript");
    const body = await res.text();
    expect(body).toContain("VIGIL_HEAD_URL='http://head.lan:8480'");
    expect(body).toContain("ExecStart=/var/lib/vigil-agent/bin/vigil agent");
    expect(body).not.toContain("@@VIGIL_");
    expect(shSyntax(body)).toEqual({ code: 0, stderr: "" });
  });

  test("takes bracketed IPv6 addresses and plain IPs", async () => {
    expect(await (await get("/install.sh", { host: "[fd00::7]:8480" })).text()).toContain("VIGIL_HEAD_URL='http://[fd00::7]:8480'");
    expect(await (await get("/install.sh", { host: "10.0.0.5:8480" })).text()).toContain("VIGIL_HEAD_URL='http://10.0.0.5:8480'");
  });

  test("refuses a Host header carrying shell text, and never echoes it into a script", async () => {
    for (const host of ["evil;rm -rf /", "x$(id)", "a'b:80", "`id`.example", 'h"x', "host:99999", "host:80:80", "-rf", "a b", "x\\y"]) {
      const res = await get("/install.sh", { host });
      expect(res.status, host).toBe(400);
      const body = await res.text();
      expect(body).not.toContain(host);
      expect(body).toContain("VIGIL_PUBLIC_URL");
    }
  });

  test("X-Forwarded-Host counts only from a trusted proxy, and is held to the same shape", async () => {
    const fromStranger = await get("/install.sh", { host: "head.lan", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" });
    expect(await fromStranger.text()).toContain("VIGIL_HEAD_URL='http://head.lan'");

    const proxied = await startTestHead("pglite", { env: { VIGIL_TRUSTED_PROXIES: "127.0.0.1" } });
    try {
      const viaProxy = new Elysia().use(installRoutes(proxied.ctx));
      const headers = { host: "127.0.0.1:8480", "x-forwarded-host": "vigil.example.org", "x-forwarded-proto": "https" };
      const ok = await get("/install.sh", headers, "127.0.0.1", viaProxy);
      expect(await ok.text()).toContain("VIGIL_HEAD_URL='https://vigil.example.org'");
      const forged = await get("/install.sh", { ...headers, "x-forwarded-host": "x$(id)" }, "127.0.0.1", viaProxy);
      expect(forged.status).toBe(400);
    } finally {
      await proxied.close();
    }
  }, 60_000);

  test("VIGIL_PUBLIC_URL wins over whatever Host the request claims", async () => {
    const pinned = await startTestHead("pglite", { env: { VIGIL_PUBLIC_URL: "https://vigil.example.org" } });
    try {
      const res = await get("/install.sh", { host: "evil;rm -rf /" }, "192.0.2.10", new Elysia().use(installRoutes(pinned.ctx)));
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).toContain("VIGIL_HEAD_URL='https://vigil.example.org'");
      expect(body).not.toContain("evil");
    } finally {
      await pinned.close();
    }
  }, 60_000);
});

test("validHost accepts hostname[:port] and nothing else", () => {
  for (const ok of ["head", "head.lan", "gpu-07.example.org:8480", "10.1.2.3:80", "[::1]:8480", "[fd00::1]"])
    expect(validHost(ok), ok).toBe(ok);
  for (const bad of [null, "", "head:", "head:0", ":80", "a..b", "a_b", "-a", "a-", "[::1", "x$(id)", "a'b", "a b"])
    expect(validHost(bad), String(bad)).toBeNull();
});

test("renderInstallScript refuses anything but scheme://host[:port]", () => {
  expect(() => renderInstallScript("ftp://head")).toThrow();
  expect(() => renderInstallScript("http://head/path")).toThrow();
  expect(() => renderInstallScript("http://user:pw@head")).toThrow();
  expect(renderInstallScript("https://head.lan/")).toContain("VIGIL_HEAD_URL='https://head.lan'");
});

test("every install route is public (a fresh worker has no credential yet)", () => {
  expect(app.routes.map((r) => [r.path, accessOf(r)])).toEqual([
    ["/install.sh", "public"],
    ["/download/vigil-linux-x64", "public"],
    ["/download/vigil-linux-x64.sha256", "public"],
  ]);
});

test("from source there is no binary to download: 404 with the reason and the fix", async () => {
  expect(await binaryInfo()).toBeNull();
  for (const path of ["/download/vigil-linux-x64", "/download/vigil-linux-x64.sha256"]) {
    const res = await get(path);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: string };
    expect(body.error).toContain("compiled binary");
    expect(body.error).toContain("make build");
  }
});

describe("scripts/install.sh", () => {
  let fake: FakeHead;
  let script: string;
  const FAKE_BINARY = "#!/bin/sh\necho 'vigil 9.9.9 (fake)'\n";
  const DRY = { VIGIL_INSTALL_ALLOW_NONROOT: "1" };
  beforeAll(() => {
    fake = startFakeHead();
    script = renderInstallScript(fake.url);
  });
  afterAll(() => fake.stop());

  test("the template parses with sh -n", () => {
    expect(shSyntax(readFileSync(TEMPLATE, "utf8"))).toEqual({ code: 0, stderr: "" });
  });

  test.skipIf(!has("shellcheck"))(
    "shellcheck finds nothing in the template or the rendered script (skipped when shellcheck is not installed)",
    () => {
      const rendered = join(tempDir("vigil-install-"), "install.sh");
      writeFileSync(rendered, script);
      for (const file of [TEMPLATE, rendered]) {
        const r = Bun.spawnSync(["shellcheck", "-s", "sh", file]);
        expect(r.stdout.toString() + r.stderr.toString()).toBe("");
        expect(r.exitCode).toBe(0);
      }
      rmSync(join(rendered, ".."), { recursive: true, force: true });
    },
  );

  test("--dry-run downloads and verifies the binary, prints every step and changes nothing", async () => {
    fake.serve(FAKE_BINARY);
    const before = existsSync("/etc/vigil/agent.env");
    const r = await runInstaller(
      script,
      ["--dry-run", "--token", "tok-abcdef123456", "--name", "gpu-07", "--allow", "comfyui.service, ollama"],
      DRY,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    expect(fake.requests).toEqual(["GET /download/vigil-linux-x64", "GET /download/vigil-linux-x64.sha256"]);
    expect(out).toContain(`verified sha256 ${sha256Hex(FAKE_BINARY)}`);
    expect(out).toContain("would write /usr/local/bin/vigil (mode 0755, owner root:root)");
    expect(out).toContain("would write /var/lib/vigil-agent/bin/vigil (mode 0755, owner vigil:vigil)");
    expect(out).toContain("would write /etc/vigil/agent.env (mode 0600, owner vigil:vigil)");
    expect(out).toContain("would write /etc/systemd/system/vigil-agent.service (mode 0644, owner root:root)");
    expect(out).toMatch(/would run: useradd --system .*--shell \S*(nologin|false) .*vigil|system user vigil\n {4}exists/);
    for (const line of [
      `VIGIL_HEAD=${fake.url}`,
      "VIGIL_TOKEN=tok-... (hidden)",
      "VIGIL_WORKER_NAME=gpu-07",
      "VIGIL_RESTART_ALLOW=comfyui.service,ollama.service",
      "VIGIL_AGENT_DIR=/var/lib/vigil-agent",
    ])
      expect(out).toContain(line);
    expect(out).not.toContain("tok-abcdef123456");
    expect(out).toContain("would run: systemctl daemon-reload");
    expect(out).toMatch(/would run: systemctl enable --now vigil-agent.service|would run: systemctl restart vigil-agent.service/);
    expect(out).toContain("dry run: nothing was changed");
    expect(existsSync("/etc/vigil/agent.env")).toBe(before);
  });

  test("--dry-run with the polkit way: a rule that lets user vigil restart exactly the listed units", async () => {
    fake.serve(FAKE_BINARY);
    const r = await runInstaller(script, ["--dry-run", "--token", "tok-abcdef123456", "--allow", "comfyui.service,ollama"], {
      ...DRY,
      VIGIL_INSTALL_RESTART_VIA: "polkit",
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("would write /etc/polkit-1/rules.d/50-vigil-agent.rules (mode 0644, owner root:root)");
    expect(r.stdout).toContain("VIGIL_RESTART_VIA=polkit");
    // The rule as printed, run against a stand-in for polkitd's JavaScript API.
    const rule = /^ {6}(\/\/ Written by[\s\S]*?^ {6}\}\);)$/m.exec(r.stdout)![1]!.replace(/^ {6}/gm, "");
    const rules: ((action: unknown, subject: unknown) => unknown)[] = [];
    const polkit = { Result: { YES: "yes" }, addRule: (f: (a: unknown, s: unknown) => unknown) => rules.push(f) };
    new Function("polkit", rule)(polkit);
    const decide = (id: string, user: string, verb: string, unit: string) =>
      rules[0]!({ id, lookup: (k: string) => ({ verb, unit })[k as "verb" | "unit"] }, { user });
    const manage = "org.freedesktop.systemd1.manage-units";
    expect(decide(manage, "vigil", "restart", "comfyui.service")).toBe("yes");
    expect(decide(manage, "vigil", "restart", "ollama.service")).toBe("yes");
    expect(decide(manage, "vigil", "stop", "comfyui.service")).toBeUndefined();
    expect(decide(manage, "vigil", "restart", "sshd.service")).toBeUndefined();
    expect(decide(manage, "alice", "restart", "comfyui.service")).toBeUndefined();
    expect(decide("org.freedesktop.systemd1.manage-unit-files", "vigil", "restart", "comfyui.service")).toBeUndefined();
  });

  test("--dry-run with the sudo way: an exact sudoers line and the drop-in that lets setuid work", async () => {
    fake.serve(FAKE_BINARY);
    const r = await runInstaller(script, ["--dry-run", "--token", "tok-abcdef123456", "--allow", "comfyui.service,getty@tty1:x.service"], {
      ...DRY,
      VIGIL_INSTALL_RESTART_VIA: "sudo",
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /vigil ALL=\(root\) NOPASSWD: (\S*systemctl) restart -- comfyui\.service, \1 restart comfyui\.service, \1 restart -- getty@tty1\\:x\.service, \1 restart getty@tty1\\:x\.service\n/,
    );
    expect(r.stdout).toContain("would write /etc/sudoers.d/vigil-agent (mode 0440, owner root:root)");
    expect(r.stdout).toContain("would write /etc/systemd/system/vigil-agent.service.d/50-vigil-sudo-restarts.conf");
    expect(r.stdout).toContain("VIGIL_RESTART_VIA=sudo");
  });

  test("a checksum that does not match stops it before anything would be installed", async () => {
    fake.serve(FAKE_BINARY, "0".repeat(64));
    const r = await runInstaller(script, ["--dry-run", "--token", "tok-abcdef123456"], DRY);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("checksum mismatch");
    expect(r.stdout).not.toContain("would write");
  });

  test("refuses values that could break out of agent.env, the sudoers line or the polkit rule", async () => {
    fake.serve(FAKE_BINARY);
    const cases: [string[], string][] = [
      [["--token", "tok$(id)xxxxxxx"], "--token"],
      [["--token", "tok-abcdef123456", "--allow", 'x";polkit.Result.YES;"'], "--allow"],
      [["--token", "tok-abcdef123456", "--allow", "a b,c"], "--allow"],
      [["--token", "tok-abcdef123456", "--allow", "worker@.service"], "is a template"],
      [["--token", "tok-abcdef123456", "--name", "gpu 07"], "--name"],
      [["--token", "tok-abcdef123456", "--head", "http://x'y"], "is not the head's URL"],
      [["--bogus"], "unknown option"],
    ];
    for (const [args, message] of cases) {
      const r = await runInstaller(script, ["--dry-run", ...args], DRY);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr).toContain(message);
    }
    const noToken = await runInstaller(script, ["--dry-run"], DRY);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain("--token is required");
  });

  test("the unrendered template refuses to run", async () => {
    const r = await runInstaller(readFileSync(TEMPLATE, "utf8"), ["--dry-run", "--token", "tok-abcdef123456"], DRY);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unrendered template");
  });

  test("--uninstall --dry-run says what it would remove and removes nothing", async () => {
    const r = await runInstaller(script, ["--dry-run", "--uninstall"], DRY);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("removing the Vigil agent");
    expect(r.stdout).toContain("dry run: nothing was changed");
  });

  // The override is for dry runs only: as a non-root user a real install must still refuse.
  const nonRoot: string[] | null =
    process.getuid?.() !== 0 ? [] : has("setpriv") ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : null;
  test.skipIf(nonRoot === null)(
    "without root a real install refuses even with VIGIL_INSTALL_ALLOW_NONROOT=1 (skipped as root without setpriv)",
    async () => {
      const r = await runInstaller(script, ["--token", "tok-abcdef123456"], { ...DRY, TMPDIR: "/tmp" }, nonRoot!);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("run as root");
    },
  );
});

test.skipIf(!has("systemd-analyze"))("systemd-analyze verify accepts both units (skipped when systemd-analyze is not installed)", () => {
  const dir = tempDir("vigil-units-");
  try {
    const files = UNITS.map((path) => {
      const name = path.split("/").at(-1)!;
      // The binary exists only once installed; verify checks that ExecStart= is executable, so point it at one that is.
      writeFileSync(join(dir, name), readFileSync(path, "utf8").replace(/^ExecStart=\S+/m, "ExecStart=/bin/true"));
      return join(dir, name);
    });
    const r = Bun.spawnSync(["systemd-analyze", "verify", ...files], { cwd: dir, stderr: "pipe", stdout: "pipe" });
    const stderr = r.stderr.toString();
    // Outside a booted system it cannot load the default dependencies (sysinit.target); everything else must be clean.
    const problems = stderr.split("\n").filter((l) => l.trim() && !/Unit sysinit\.target not found/.test(l));
    expect(problems).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("as a compiled binary", () => {
  const dirs: string[] = [];
  let served: VigilProcess | undefined;
  afterAll(async () => {
    await served?.stop("SIGKILL");
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function build(args: string[]): string {
    const dir = tempDir("vigil-install-bin-");
    dirs.push(dir);
    const binary = join(dir, "vigil");
    const built = Bun.spawnSync([process.execPath, ...args, binary], { cwd: REPO, stderr: "pipe", stdout: "pipe" });
    expect(built.exitCode, built.stderr.toString()).toBe(0);
    return binary;
  }

  /** Body, x-vigil-sha256, the .sha256 file and the file on disk must agree; the served install.sh must dry-run against it. */
  async function checkDownloads(url: string, binary: string) {
    const fileSha = sha256Hex(await Bun.file(binary).bytes());
    const res = await fetch(`${url}/download/vigil-linux-x64`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("x-vigil-version")).toMatch(/^\d+\.\d+\.\d+/);
    expect(Number(res.headers.get("content-length"))).toBe(Bun.file(binary).size);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.byteLength).toBe(Bun.file(binary).size);
    expect(sha256Hex(body)).toBe(fileSha);
    expect(res.headers.get("x-vigil-sha256")).toBe(fileSha);
    expect(await (await fetch(`${url}/download/vigil-linux-x64.sha256`)).text()).toBe(`${fileSha}  vigil-linux-x64\n`);

    const script = await (await fetch(`${url}/install.sh`)).text();
    expect(script).toContain(`VIGIL_HEAD_URL='${url}'`);
    const r = await runInstaller(script, ["--dry-run", "--token", "tok-abcdef123456"], { VIGIL_INSTALL_ALLOW_NONROOT: "1" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`verified sha256 ${fileSha}`);
  }

  test("the install routes compiled in hand out the binary itself (stand-in server: test/install/serve-install.ts)", async () => {
    const binary = build(["build", "--compile", "test/install/serve-install.ts", "--outfile"]);
    const port = freePort();
    served = spawnVigil({ cmd: [binary], args: [String(port)], cwd: join(binary, ".."), port });
    await served.ready(30_000);
    await checkDownloads(served.url, binary);
    await served.stop();
    served = undefined;
  }, 120_000);

  // Runs once the lead adds installRoutes to src/routes/index.ts; until then `vigil serve` has no /download route.
  test.skipIf(!(ROUTE_GROUPS as readonly unknown[]).includes(installRoutes))(
    "`vigil serve` from scripts/build.ts serves itself (skipped until installRoutes is in the route registry)",
    async () => {
      const binary = build([join(REPO, "scripts/build.ts")]);
      mkdirSync(join(binary, "..", "data"));
      const port = freePort();
      served = spawnVigil({
        cmd: [binary],
        args: ["serve", "--listen", `127.0.0.1:${port}`, "--data-dir", join(binary, "..", "data"), "--no-local-agent"],
        cwd: join(binary, ".."),
        port,
      });
      await served.ready(60_000);
      await checkDownloads(served.url, binary);
    },
    120_000,
  );
});
