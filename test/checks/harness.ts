// For checker tests: a CheckContext allowed to reach loopback, throwaway local servers, a self-signed certificate, and a stand-in agent running probes on this machine.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CheckContext, WorkerProbe, WorkerProbeAnswer } from "../../src/checks/checker.ts";
import { connectTcp } from "../../src/checks/connect.ts";
import { writeTest } from "../../src/checks/filesystem.ts";
import { errorText } from "../../src/checks/outcome.ts";
import type { HeadContext } from "../../src/head/context.ts";
import { checkHost, outboundFetch, outboundPolicy } from "../../src/net/outbound.ts";

/** Loopback only: what the tests' servers listen on, and nothing else private. */
export const LOOPBACK_POLICY = outboundPolicy(false, ["127.0.0.0/8"]);

/** Stands in for the head in checks that must not touch it: any use says so. */
const NO_HEAD = new Proxy({} as HeadContext, {
  get(_, key) {
    throw new Error(`this test gave the check no head (it read head.${String(key)})`);
  },
});

/** A context for one check: loopback allowed, 2 s timeout, latency never degrading, no head and no agent unless given. */
export function checkContext(over: Partial<CheckContext> = {}): CheckContext {
  const timeoutMs = over.timeoutMs ?? 2_000;
  return {
    now: Date.now,
    timeoutMs,
    degradedLatencyMs: null,
    fetch: (url, init) => outboundFetch(url, init, LOOPBACK_POLICY, { timeoutMs }),
    checkHost: async (host) => {
      await checkHost(host, LOOPBACK_POLICY);
    },
    head: NO_HEAD,
    workerId: null,
    probe: async (workerId) => {
      throw new Error(`agent of worker ${workerId} is not connected`);
    },
    signal: new AbortController().signal,
    ...over,
  };
}

export interface LocalServer {
  /** http(s)://127.0.0.1:<port> */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function httpServer(fetch: (req: Request) => Response | Promise<Response>, tls?: { key: string; cert: string }): LocalServer {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch, ...(tls ? { tls } : {}) });
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${server.port}`,
    port: server.port!,
    stop: async () => {
      await server.stop(true);
    },
  };
}

/** A TCP server that accepts and leaves connections be. */
export function tcpServer(): { port: number; stop(): void } {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  return { port: listener.port, stop: () => listener.stop(true) };
}

/** A loopback port nobody listens on (it was just closed), for "connection refused". */
export function closedPort(): number {
  const s = tcpServer();
  s.stop();
  return s.port;
}

/** A self-signed certificate for 127.0.0.1 valid `days` days from now, made by the machine's openssl. */
export function selfSignedCert(days: number): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "vigil-test-cert-"));
  try {
    const r = Bun.spawnSync([
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-days",
      String(days),
      "-subj",
      "/CN=vigil-test",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ]);
    if (r.exitCode !== 0) throw new Error(`openssl failed: ${r.stderr.toString()}`);
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What a worker's agent would answer, run on this machine: http, tcp and filesystem probes for real;
 * unit probes answer `units[unit]` as the ActiveState. Records every probe asked.
 */
export function localAgent(units: Record<string, string> = {}): {
  probe: CheckContext["probe"];
  asked: { workerId: number; probe: WorkerProbe; timeoutMs: number }[];
} {
  const asked: { workerId: number; probe: WorkerProbe; timeoutMs: number }[] = [];
  const probe = async (workerId: number, p: WorkerProbe, timeoutMs: number): Promise<WorkerProbeAnswer> => {
    asked.push({ workerId, probe: p, timeoutMs });
    const started = performance.now();
    const latencyMs = () => performance.now() - started;
    try {
      switch (p.kind) {
        case "http": {
          const res = await fetch(p.url, { signal: AbortSignal.timeout(p.timeoutMs) });
          await res.arrayBuffer();
          return { ok: true, result: { status: res.status, latencyMs: latencyMs() } };
        }
        case "tcp": {
          const c = await connectTcp(p.host, p.port, AbortSignal.timeout(p.timeoutMs));
          return { ok: true, result: { latencyMs: c.latencyMs } };
        }
        case "filesystem": {
          const s = await statfs(p.path);
          const result: Record<string, unknown> = { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
          if (p.writeTest) {
            const at = performance.now();
            try {
              await writeTest(p.path);
              Object.assign(result, { writable: true, latencyMs: performance.now() - at });
            } catch (err) {
              Object.assign(result, { writable: false, writeError: errorText(err) });
            }
          }
          return { ok: true, result };
        }
        case "unit": {
          const state = units[p.unit];
          if (state === undefined) return { ok: false, result: {}, error: `Unit ${p.unit} could not be found.` };
          return { ok: true, result: { activeState: state, subState: state === "active" ? "running" : "dead" } };
        }
        default:
          return { ok: false, result: {}, error: `probe ${p.kind} not supported by this stand-in` };
      }
    } catch (err) {
      return { ok: false, result: {}, error: errorText(err) };
    }
  };
  return { probe, asked };
}
