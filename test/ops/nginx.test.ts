// deploy/nginx/vigil.conf in front of a real head: Debian's nginx on loopback with a self-signed certificate, a page, SSE and an agent through it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort, REPO, runVigil, spawnVigil, tempDir, type VigilProcess } from "../harness/process.ts";

const NO_GPU = { VIGIL_NVML_LIB: "/nonexistent/libnvidia-ml.so.1", VIGIL_NVIDIA_SMI: "/nonexistent/nvidia-smi" };
const PASSWORD = "nginx-test-password-1";
const WORKER = "w-behind-nginx";

const tmp = tempDir("vigil-nginx-");
const httpPort = freePort();
const tlsPort = freePort();
const headPort = freePort();
const publicUrl = `https://localhost:${tlsPort}`;
const certPath = join(tmp, "cert.pem");
const keyPath = join(tmp, "key.pem");

const vigils: VigilProcess[] = [];
let nginx: Subprocess<"ignore", "pipe", "pipe"> | undefined;
let nginxOutput = "";
let head: VigilProcess;
let cookie = "";

/** Same lookup as scripts/ensure-nginx.sh. */
function findNginx(): string | undefined {
  for (const c of [process.env.VIGIL_NGINX, "/usr/sbin/nginx", Bun.which("nginx") ?? undefined]) if (c && existsSync(c)) return c;
  return undefined;
}

/** `text` with `from` replaced; a missing `from` means vigil.conf changed under this test, which must say so. */
function substitute(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`deploy/nginx/vigil.conf no longer contains "${from}"; update test/ops/nginx.test.ts`);
  return text.replaceAll(from, to);
}

/** deploy/nginx/vigil.conf with loopback ports, the temp certificate and the test head, inside a main config that keeps every file under `tmp`. */
function nginxConfig(): string {
  let site = readFileSync(join(REPO, "deploy/nginx/vigil.conf"), "utf8");
  site = substitute(site, "listen 80;", `listen 127.0.0.1:${httpPort};`);
  site = substitute(site, "listen [::]:80;", "");
  site = substitute(site, "listen 443 ssl http2;", `listen 127.0.0.1:${tlsPort} ssl http2;`);
  site = substitute(site, "listen [::]:443 ssl http2;", "");
  site = substitute(site, "/etc/ssl/vigil/fullchain.pem", certPath);
  site = substitute(site, "/etc/ssl/vigil/privkey.pem", keyPath);
  site = substitute(site, "server 127.0.0.1:8480;", `server 127.0.0.1:${headPort};`);
  writeFileSync(join(tmp, "vigil.conf"), site);
  // As root, nginx's workers would otherwise drop to nobody, who cannot enter the private temp dir.
  const user = process.getuid?.() === 0 ? "user root;" : "";
  return `${user}
daemon off;
worker_processes 1;
pid ${tmp}/nginx.pid;
error_log ${tmp}/error.log info;
events { worker_connections 64; }
http {
    access_log ${tmp}/access.log;
    client_body_temp_path ${tmp}/client_body;
    proxy_temp_path ${tmp}/proxy;
    fastcgi_temp_path ${tmp}/fastcgi;
    uwsgi_temp_path ${tmp}/uwsgi;
    scgi_temp_path ${tmp}/scgi;
    include ${tmp}/vigil.conf;
}
`;
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<void> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    nginxOutput += decoder.decode(value, { stream: true });
  }
}

function nginxLog(): string {
  const errorLog = join(tmp, "error.log");
  return `${nginxOutput}${existsSync(errorLog) ? readFileSync(errorLog, "utf8") : ""}`;
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs: number, log = () => ""): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${log()}`);
    await Bun.sleep(100);
  }
}

/** Through nginx, trusting the test's own certificate (and nothing else). */
function viaNginx(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${publicUrl}${path}`, { redirect: "manual", ...init, tls: { ca: readFileSync(certPath, "utf8") } } as RequestInit);
}

beforeAll(async () => {
  const nginxBin = findNginx();
  if (!nginxBin)
    throw new Error(
      "nginx is not installed: run scripts/ensure-nginx.sh (as root it installs Debian's nginx), or set VIGIL_NGINX to an nginx binary",
    );
  if (!Bun.which("openssl"))
    throw new Error("openssl is not installed (Debian: apt-get install openssl); the test makes its certificate with it");
  const cert = Bun.spawnSync(
    ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"].concat([
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-keyout",
      keyPath,
      "-out",
      certPath,
    ]),
    { stdout: "pipe", stderr: "pipe" },
  );
  if (cert.exitCode !== 0) throw new Error(`openssl could not make the test certificate:\n${cert.stderr.toString()}`);

  head = spawnVigil({
    args: ["serve", "--no-local-agent"],
    env: {
      VIGIL_LISTEN: `127.0.0.1:${headPort}`,
      VIGIL_PUBLIC_URL: publicUrl,
      VIGIL_TRUSTED_PROXIES: "127.0.0.1",
      VIGIL_ADMIN_PASSWORD: PASSWORD,
      VIGIL_DATA_DIR: join(tmp, "head"),
      ...NO_GPU,
    },
    port: headPort,
  });
  vigils.push(head);

  writeFileSync(join(tmp, "nginx.conf"), nginxConfig());
  const check = Bun.spawnSync([nginxBin, "-t", "-p", tmp, "-e", `${tmp}/error.log`, "-c", `${tmp}/nginx.conf`], { stderr: "pipe" });
  if (check.exitCode !== 0) throw new Error(`nginx -t refused the config made from deploy/nginx/vigil.conf:\n${check.stderr.toString()}`);
  nginx = Bun.spawn([nginxBin, "-p", tmp, "-e", `${tmp}/error.log`, "-c", `${tmp}/nginx.conf`], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  void drain(nginx.stdout);
  void drain(nginx.stderr);

  await head.ready(60_000);
  await waitFor(
    "nginx to answer on its TLS port",
    async () => {
      if (nginx!.exitCode !== null) throw new Error(`nginx exited with ${nginx!.exitCode}:\n${nginxLog()}`);
      return viaNginx("/healthz").then(
        (r) => r.status === 200,
        () => false,
      );
    },
    15_000,
    nginxLog,
  );
}, 90_000);

afterAll(async () => {
  for (const p of vigils.reverse()) await p.stop("SIGTERM");
  if (nginx && nginx.exitCode === null) {
    nginx.kill("SIGTERM"); // the master stops its workers on a fast shutdown
    const timer = setTimeout(() => nginx!.kill("SIGKILL"), 10_000);
    await nginx.exited;
    clearTimeout(timer);
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe("vigil behind deploy/nginx/vigil.conf", () => {
  test("plain HTTP answers 301 to the same path on https", async () => {
    const r = await fetch(`http://127.0.0.1:${httpPort}/workers?sort=name`, { redirect: "manual", headers: { host: "localhost" } });
    expect(r.status).toBe(301);
    // The config is for port 443; the redirect names no port, as a browser expects there.
    expect(r.headers.get("location")).toBe("https://localhost/workers?sort=name");
  });

  test("signing in through nginx sets a Secure session cookie, and the fleet page comes back", async () => {
    const signIn = await viaNginx("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: publicUrl },
      body: new URLSearchParams({ name: "admin", password: PASSWORD, next: "/" }),
    });
    expect(signIn.status).toBe(303);
    const setCookie = signIn.headers.getSetCookie()[0]!;
    // Secure only because nginx, a trusted proxy, said X-Forwarded-Proto: https: the head itself speaks plain HTTP.
    expect(setCookie).toContain("; Secure");
    expect(setCookie).toContain("HttpOnly");
    cookie = setCookie.split(";")[0]!;

    const page = await viaNginx("/", { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("<html");
  });

  test("the same sign-in straight to the head (no proxy) gets no Secure flag", async () => {
    const r = await fetch(`${head.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: publicUrl },
      body: new URLSearchParams({ name: "admin", password: PASSWORD, next: "/" }),
    });
    expect(r.status).toBe(303);
    expect(r.headers.getSetCookie()[0]).not.toContain("Secure");
  });

  test("the SSE stream's first frame arrives through nginx within a few seconds (no buffering)", async () => {
    expect(cookie).not.toBe("");
    const abort = new AbortController();
    const r = await viaNginx("/events?view=fleet", { headers: { cookie, accept: "text/event-stream" }, signal: abort.signal });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("text/event-stream");
    const reader = r.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const deadline = Date.now() + 5_000;
    try {
      while (!text.includes("\n\n")) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no complete SSE frame through nginx within 5 s; got ${JSON.stringify(text)}`);
        const next = await Promise.race([reader.read(), Bun.sleep(left).then(() => "timeout" as const)]);
        if (next === "timeout") continue;
        if (next.done) throw new Error(`the SSE stream ended before its first frame; got ${JSON.stringify(text)}`);
        text += decoder.decode(next.value, { stream: true });
      }
    } finally {
      abort.abort();
    }
    expect(text).toMatch(/^(data|event|id|retry|:)/m);
  });

  test("a real agent enrolls and streams samples through nginx's WebSocket upgrade; the worker shows online", async () => {
    const added = await runVigil(["worker", "add", WORKER], { VIGIL_DATA_DIR: join(tmp, "head"), VIGIL_PUBLIC_URL: publicUrl });
    expect(added.code).toBe(0);
    const token = added.stdout.trim();
    expect(added.stderr).toContain(`${publicUrl}/install.sh`);

    const agent = spawnVigil({
      args: ["agent", "--head", publicUrl, "--token", token, "--interval", "0.5"],
      // The agent has no certificate option of its own; Bun trusts extra CAs from NODE_EXTRA_CA_CERTS for fetch and WebSocket.
      env: { VIGIL_AGENT_DIR: join(tmp, "agent"), NODE_EXTRA_CA_CERTS: certPath, ...NO_GPU },
      port: tlsPort,
    });
    vigils.push(agent);
    await waitFor(
      "the agent to connect",
      async () => agent.stderr().includes('"connected to the head"'),
      30_000,
      () => agent.stderr(),
    );

    const api = async <T>(path: string): Promise<T> => {
      const r = await viaNginx(path, { headers: { cookie } });
      if (r.status !== 200) throw new Error(`GET ${path} through nginx: ${r.status} ${await r.text()}`);
      return (await r.json()) as T;
    };
    const online = async () => {
      const { workers } = await api<{ workers: { name: string; status: string }[] }>("/api/v1/workers");
      return workers.some((w) => w.name === WORKER && w.status === "online");
    };
    await waitFor(`${WORKER} to show online`, online, 30_000, () => `${agent.stderr()}\n${head.stderr()}`);
    const current = await api<{ workers: { name: string; sample: { seq: number } | null }[] }>("/api/v1/metrics/current");
    expect(current.workers.find((w) => w.name === WORKER)?.sample?.seq).toBeGreaterThanOrEqual(0);

    expect(await agent.stop("SIGTERM")).toBe(0);
    // nginx logs an upgraded request when it closes: the agent's socket went through it as a 101.
    await waitFor(
      "nginx to log the closed WebSocket",
      async () => readFileSync(join(tmp, "access.log"), "utf8").includes('"GET /api/v1/agent/ws HTTP/1.1" 101'),
      5_000,
      () => readFileSync(join(tmp, "access.log"), "utf8"),
    );
  }, 90_000);
});
