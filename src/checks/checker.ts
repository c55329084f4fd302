// The contract every health checker implements: one kind of check, its typed settings, and one run giving healthy, degraded or down.
import type { Static, TObject } from "@sinclair/typebox";
import type { HeadContext } from "../head/context.ts";

export type HealthStatus = "healthy" | "degraded" | "down";
export const HEALTH_STATUSES: readonly HealthStatus[] = ["healthy", "degraded", "down"];

/** What one check found. `details` is shown on the service's page (status code, TLS days left, free bytes, ...). */
export interface CheckOutcome {
  status: HealthStatus;
  /** How long the checked thing took to answer; null when it did not (down) or when latency means nothing for the kind. */
  latencyMs: number | null;
  /** One line for people: "HTTP 200 in 35 ms", "connection refused", "certificate expires in 6 days". */
  message: string;
  details: Record<string, unknown>;
}

/** A request the head asks a worker's agent to run on the worker's side (its localhost, its units, its disks). */
export type WorkerProbe =
  | { kind: "unit"; unit: string }
  | { kind: "http"; url: string; timeoutMs: number }
  | { kind: "tcp"; host: string; port: number; timeoutMs: number }
  | { kind: "filesystem"; path: string; writeTest: boolean }
  | { kind: "files"; paths: string[] }
  | { kind: "log"; unit?: string; path?: string; lines: number };

export interface WorkerProbeAnswer {
  ok: boolean;
  /** What the agent found, by probe kind (unit: activeState/subState; http: status/latencyMs; filesystem: free/total/writable; log: lines). */
  result: Record<string, unknown>;
  error?: string;
}

export interface CheckContext {
  /** The check's clock (tests script it). */
  now: () => number;
  timeoutMs: number;
  /** Slower than this is degraded; null: latency never degrades. */
  degradedLatencyMs: number | null;
  /** Outbound-guarded fetch: link-local and metadata addresses refused, private ones unless allowed (src/net/outbound.ts). */
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  /** Same guard for a host a checker connects to without fetch (TCP). */
  checkHost: (host: string) => Promise<void>;
  /** The head, for the checks of Vigil itself, its database, agents, channels and the live bus. */
  head: HeadContext;
  /** The service's worker, for worker-side checks. */
  workerId: number | null;
  /** Runs a probe on the worker through its agent's connection; throws when the agent is not connected. */
  probe: (workerId: number, probe: WorkerProbe, timeoutMs: number) => Promise<WorkerProbeAnswer>;
  signal: AbortSignal;
}

export interface Checker<S extends TObject = TObject> {
  /** Stored with the service: "http", "tcp", ... */
  kind: string;
  /** For people: "HTTP(S) endpoint". */
  label: string;
  /** The service's `config`, with descriptions: validates it and feeds the API docs and the form. */
  schema: S;
  /** Whether the check needs the service's worker (an agent-side probe or the agent itself). */
  needsWorker: boolean;
  run(config: Static<S>, ctx: CheckContext): Promise<CheckOutcome>;
  /** A longer look for the "diagnose" action: each line of what was tried and found. Defaults to run()'s outcome. */
  diagnose?(config: Static<S>, ctx: CheckContext): Promise<string[]>;
}

/** Healthy, or degraded when slower than the bound: the rule every answering check applies to its latency. */
export function byLatency(latencyMs: number, ctx: Pick<CheckContext, "degradedLatencyMs">): HealthStatus {
  return ctx.degradedLatencyMs !== null && latencyMs > ctx.degradedLatencyMs ? "degraded" : "healthy";
}
