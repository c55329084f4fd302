// Every health check, by kind: validating a service's config and running or diagnosing its check go through here.
import { settingsProblems } from "../protocol/problems.ts";
import { agent } from "./agent.ts";
import { bus } from "./bus.ts";
import { channels } from "./channels.ts";
import type { CheckContext, CheckOutcome, Checker } from "./checker.ts";
import { database } from "./database.ts";
import { filesystem } from "./filesystem.ts";
import { http } from "./http.ts";
import { diagnoseLines, down, neverThrows } from "./outcome.ts";
import { tcp } from "./tcp.ts";
import { unit } from "./unit.ts";
import { vigil } from "./vigil.ts";
import { workerHttp } from "./worker-http.ts";
import { workerTcp } from "./worker-tcp.ts";

/** The kinds stored in `services.kind`. A kind here without its module (or the reverse) stops the head at start-up. */
export const CHECK_KINDS = [
  "vigil",
  "database",
  "http",
  "tcp",
  "agent",
  "unit",
  "worker-http",
  "worker-tcp",
  "filesystem",
  "channels",
  "bus",
] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/**
 * Indexes `checkers` by kind, throwing on a duplicate, a kind not in `kinds`, or a kind in `kinds`
 * with no checker: a service stored in the database must always find its code.
 */
export function buildCheckRegistry(checkers: readonly Checker[], kinds: readonly string[]): ReadonlyMap<string, Checker> {
  const byKind = new Map<string, Checker>();
  for (const c of checkers) {
    if (byKind.has(c.kind)) throw new Error(`check kind "${c.kind}" is registered twice`);
    if (!kinds.includes(c.kind)) throw new Error(`check kind "${c.kind}" is not one of ${kinds.join(", ")}`);
    byKind.set(c.kind, c);
  }
  const missing = kinds.filter((k) => !byKind.has(k));
  if (missing.length > 0) throw new Error(`no checker registered for check kind ${missing.map((k) => `"${k}"`).join(", ")}`);
  return byKind;
}

/** In the order the UI offers them: Vigil's own parts first, then what it watches. */
export const CHECKERS: readonly Checker[] = [vigil, database, bus, channels, http, tcp, agent, unit, workerHttp, workerTcp, filesystem];

// Runs at module load, so a broken registry fails the head's start (and every test), not the first check.
const BY_KIND = buildCheckRegistry(CHECKERS, CHECK_KINDS);

export function isCheckKind(kind: string): kind is CheckKind {
  return BY_KIND.has(kind);
}

function unknownKind(kind: string): string {
  return `unknown check kind "${kind}" (known: ${CHECK_KINDS.join(", ")})`;
}

/** The checker for a stored kind; throws for one Vigil does not know (a database from a newer version). */
export function checkerOf(kind: string): Checker {
  const c = BY_KIND.get(kind);
  if (!c) throw new Error(unknownKind(kind));
  return c;
}

/** Readable problems with a service's check config, one per field (empty when it is valid). */
export function validateCheckConfig(kind: string, config: unknown): string[] {
  const c = BY_KIND.get(kind);
  if (!c) return [unknownKind(kind)];
  return settingsProblems(c.schema, config, "check");
}

/** Why the check cannot run as configured (unknown kind, invalid config, no worker for a worker check), or null. */
function unrunnable(kind: string, config: unknown, ctx: Pick<CheckContext, "workerId">): string | null {
  const c = BY_KIND.get(kind);
  if (!c) return unknownKind(kind);
  const problems = validateCheckConfig(kind, config);
  if (problems.length > 0) return `${c.label} check config is invalid: ${problems.join("; ")}`;
  if (c.needsWorker && ctx.workerId === null) return `${c.label}: this check needs a worker; choose the worker it runs on`;
  return null;
}

/** Validates the stored config and runs the check. Never throws: anything wrong is a down outcome saying what. */
export async function runCheck(kind: string, config: unknown, ctx: CheckContext): Promise<CheckOutcome> {
  const problem = unrunnable(kind, config, ctx);
  if (problem) return down(problem, { kind });
  const c = checkerOf(kind);
  return neverThrows(c.label, () => c.run(config as never, ctx));
}

/** The "diagnose" action: the checker's longer look, or its outcome in one line for a kind with none. */
export async function diagnoseCheck(kind: string, config: unknown, ctx: CheckContext): Promise<string[]> {
  const problem = unrunnable(kind, config, ctx);
  if (problem) return [problem];
  const c = checkerOf(kind);
  return diagnoseLines(async (lines) => {
    if (c.diagnose) lines.push(...(await c.diagnose(config as never, ctx)));
    else {
      const o = await neverThrows(c.label, () => c.run(config as never, ctx));
      lines.push(`${o.status}: ${o.message}`, ...Object.entries(o.details).map(([k, v]) => `${k}: ${JSON.stringify(v)}`));
    }
  });
}
