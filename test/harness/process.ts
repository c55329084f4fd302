// Runs the real vigil program (from source, or a compiled binary) as a child process on a free port, for end-to-end tests.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

export const REPO = resolve(import.meta.dir, "../..");

/** A TCP port nobody listens on right now (the kernel picks it). */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

export function tempDir(prefix = "vigil-e2e-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The command that runs vigil from source with the same Bun that runs the tests. */
export function vigilFromSource(): string[] {
  return [process.execPath, join(REPO, "src/main.ts")];
}

/** Reads a child's output as it comes, so a chatty process never blocks on a full pipe. */
async function drain(stream: ReadableStream<Uint8Array>, onText: (text: string) => void): Promise<void> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onText(decoder.decode(value, { stream: true }));
  }
}

export interface VigilProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  url: string;
  /** Everything the process wrote to stderr so far (its JSON log lines). */
  stderr(): string;
  /** Everything it wrote to stdout so far (the first-start banner). */
  stdout(): string;
  /** Waits until GET /healthz answers 200, or throws with the process's log. */
  ready(timeoutMs?: number): Promise<void>;
  /** Sends the signal and returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

export function spawnVigil(opts: {
  cmd?: string[];
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  port: number;
}): VigilProcess {
  const proc = Bun.spawn([...(opts.cmd ?? vigilFromSource()), ...opts.args], {
    cwd: opts.cwd ?? REPO,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let err = "";
  void drain(proc.stderr, (text) => (err += text));
  let out = "";
  void drain(proc.stdout, (text) => (out += text));
  const url = `http://127.0.0.1:${opts.port}`;
  return {
    proc,
    url,
    stderr: () => err,
    stdout: () => out,
    async ready(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (proc.exitCode !== null) throw new Error(`vigil exited with ${proc.exitCode} before it was ready:\n${err}`);
        try {
          const r = await fetch(`${url}/healthz`);
          if (r.status === 200) return;
        } catch {
          /* not listening yet */
        }
        await Bun.sleep(100);
      }
      throw new Error(`vigil did not answer /healthz within ${timeoutMs} ms:\n${err}`);
    },
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null) proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
      const code = await proc.exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs a vigil command to completion and returns its exit code and output. */
export async function runVigil(args: string[], env: Record<string, string> = {}, cmd = vigilFromSource(), cwd = REPO) {
  const proc = Bun.spawn([...cmd, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

export async function getJson<T = any>(url: string, token?: string): Promise<T> {
  const r = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : undefined);
  if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}
