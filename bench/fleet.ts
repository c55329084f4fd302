// Shared by the ingest benchmarks: a compiled head started and awaited, and `vigil simulate` run against heads with its summary read back.
import { resolve } from "node:path";
import { freePort } from "../test/harness/process.ts";

export const BINARY = resolve(import.meta.dir, "../dist/vigil");

export async function run(cmd: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn(cmd, { env: { PATH: process.env.PATH!, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

export interface BenchHead {
  port: number;
  url: string;
  proc: ReturnType<typeof Bun.spawn>;
  stop(): Promise<void>;
}

/** `dist/vigil serve` on a free loopback port without its local agent, once /healthz answers. */
export async function startHead(label: string, env: Record<string, string>): Promise<BenchHead> {
  const port = freePort();
  const proc = Bun.spawn([BINARY, "serve", "--listen", `127.0.0.1:${port}`, "--no-local-agent"], {
    env: { PATH: process.env.PATH!, ...env },
    stdout: "ignore",
    stderr: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* starting */
    }
    if (i > 600) throw new Error(`${label}: head did not start`);
    await Bun.sleep(100);
  }
  return {
    port,
    url,
    proc,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

export interface SimulateLoad {
  token: string;
  workers: number;
  gpus: number;
  batch: number;
  seconds: number;
}

export interface SimulateSummary {
  gpuSamplesPerSecond: number;
  acked: number;
  sent: number;
}

/**
 * `vigil simulate` against `heads` (workers spread round robin), a batch every 0.2 s: more offered than a head takes,
 * so the rate measured is the heads' (the drain after the run counts too).
 */
export async function simulate(label: string, heads: string[], load: SimulateLoad): Promise<SimulateSummary> {
  const sim = await run(
    [
      BINARY,
      "simulate",
      "--head",
      heads[0]!,
      ...(heads.length > 1 ? ["--spread-to", heads.slice(1).join(",")] : []),
      "--token",
      load.token,
      "--workers",
      String(load.workers),
      "--gpus",
      String(load.gpus),
      "--interval",
      "0.2",
      "--batch",
      String(load.batch),
      "--duration",
      String(load.seconds),
    ],
    {},
  );
  const summary = JSON.parse(sim.stdout.trim().split("\n").at(-1) ?? "{}") as Partial<SimulateSummary>;
  if (!summary.gpuSamplesPerSecond) throw new Error(`${label}: simulate said ${sim.stdout} ${sim.stderr}`);
  console.error(`${label}: ${JSON.stringify(summary)}`);
  return { gpuSamplesPerSecond: summary.gpuSamplesPerSecond, acked: summary.acked ?? 0, sent: summary.sent ?? 0 };
}
