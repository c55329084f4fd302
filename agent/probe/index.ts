// Runs the probes the head asks this agent for (one file per kind), never rejecting: every failure is an answer with its reason.
import { isAbsolute } from "node:path";
import { ConfigError } from "../../src/config.ts";
import { probeProblem, type ProbeAnswer, type ProbeKind, type WorkerProbeSpec } from "../../src/protocol/messages.ts";
import { errorText, seconds, type ProbeContext, type ProbeSettings } from "./context.ts";
import { filesProbe } from "./files.ts";
import { filesystemProbe } from "./filesystem.ts";
import { httpProbe } from "./http.ts";
import { logProbe } from "./log.ts";
import { tcpProbe } from "./tcp.ts";
import { unitProbe } from "./unit.ts";

export type { ProbeSettings } from "./context.ts";

/**
 * The directories whose files probes may read. Read from the environment here until src/config.ts
 * has a proper `probePaths` setting (flag, env, help text, validated once with the others); then the
 * agent command passes the config value and this reader goes.
 */
export const PROBE_PATHS_ENV = "VIGIL_PROBE_PATHS";

/** Comma-separated absolute directories; a relative entry stops the agent at start-up rather than matching nothing. */
export function parseProbePaths(value: string | undefined): string[] {
  const paths: string[] = [];
  for (const entry of (value ?? "").split(",")) {
    const path = entry.trim();
    if (path === "") continue;
    if (!isAbsolute(path)) throw new ConfigError(`${PROBE_PATHS_ENV}: ${JSON.stringify(path)} is not an absolute directory`);
    if (!paths.includes(path)) paths.push(path);
  }
  return paths;
}

/** The agent's probe settings: logs of the units it may restart, files under VIGIL_PROBE_PATHS. */
export function probeSettingsFromEnv(
  restartAllow: readonly string[],
  env: Record<string, string | undefined> = process.env,
): ProbeSettings {
  return { logUnits: [...restartAllow], paths: parseProbePaths(env[PROBE_PATHS_ENV]) };
}

type KindRunner = (probe: never, ctx: ProbeContext) => Promise<Record<string, unknown>>;

/** The registry: one runner per kind the protocol knows (a missing one fails to compile). */
const RUNNERS: Record<ProbeKind, KindRunner> = {
  unit: unitProbe,
  http: httpProbe,
  tcp: tcpProbe,
  filesystem: filesystemProbe,
  files: filesProbe,
  log: logProbe,
};

function failed(error: string): ProbeAnswer {
  return { ok: false, result: {}, error: error.length <= 2000 ? error : `${error.slice(0, 1999)}…` };
}

/**
 * Runs one probe within `timeoutMs`. Checked against the protocol's schema first, because the head's
 * in-process agent calls this without a socket (and so without the message's validation).
 */
export async function runProbe(probe: WorkerProbeSpec, timeoutMs: number, settings: ProbeSettings): Promise<ProbeAnswer> {
  const problem = probeProblem(probe);
  if (problem) return failed(`this agent cannot run the probe: ${problem}`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<ProbeAnswer>((resolve) => {
    timer = setTimeout(() => resolve(failed(`the ${probe.kind} probe did not finish within ${seconds(timeoutMs)}`)), timeoutMs);
  });
  const run = (RUNNERS[probe.kind] as (p: WorkerProbeSpec, c: ProbeContext) => Promise<Record<string, unknown>>)(probe, {
    settings,
    timeoutMs,
  }).then(
    (result): ProbeAnswer => ({ ok: true, result }),
    (err: unknown) => failed(errorText(err)),
  );
  try {
    return await Promise.race([run, late]);
  } finally {
    clearTimeout(timer);
  }
}

export type ProbeRunner = (probe: WorkerProbeSpec, timeoutMs: number) => Promise<ProbeAnswer>;

/** Most probes running at once on one agent: a head asking faster than they finish gets refusals, not a pile-up. */
export const MAX_PROBES_IN_FLIGHT = 16;

export function createProbeRunner(settings: ProbeSettings, maxInFlight = MAX_PROBES_IN_FLIGHT): ProbeRunner {
  let running = 0;
  return async (probe, timeoutMs) => {
    if (running >= maxInFlight) return failed(`this agent is already running ${running} probes; try again later`);
    running++;
    try {
      return await runProbe(probe, timeoutMs, settings);
    } finally {
      running--;
    }
  };
}
