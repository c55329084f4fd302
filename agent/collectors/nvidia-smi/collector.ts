// The nvidia-smi GPU source: runs the queries of query.ts as subprocesses, the fallback when NVML cannot be loaded.
import type { GpuVitals } from "../../../src/protocol/sample.ts";
import { ProcessDirectory } from "../gpu/processes.ts";
import { GpuSourceUnavailable, type GpuReading, type GpuSource } from "../gpu/source.ts";
import {
  attachProcesses,
  lostGpu,
  parseComputeApps,
  parseGpuQuery,
  parseRefusedField,
  parseSummaryBanner,
  parseUnreachable,
  sameBusId,
  type SummaryBanner,
  type UnreachableGpu,
} from "./parse.ts";
import { COMPUTE_APPS_ARGS, GPU_FIELDS, gpuQueryArgs, preferredFields, SUMMARY_ARGS, withoutName, type ResolvedField } from "./query.ts";

export interface NvidiaSmiOptions {
  /** The executable; "nvidia-smi" (looked up on PATH) when unset or empty. The agent passes VIGIL_NVIDIA_SMI. */
  path?: string;
  /** Where process names, users and containers are read; "/proc" by default. */
  procRoot?: string;
  /** How long one nvidia-smi run may take before it is killed; 10 s by default. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The executable could not be started at all (missing, not executable). */
class SpawnFailed extends Error {}
class TimedOut extends Error {}

/** Runs nvidia-smi once, killing it when it outlives `timeoutMs` (a wedged driver can hang it for minutes). */
async function runOnce(path: string, args: readonly string[], timeoutMs: number, running: Set<Bun.Subprocess>): Promise<RunResult> {
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    // env as it is now, like node:child_process; Bun's default is the environment at start-up.
    proc = Bun.spawn([path, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: process.env });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new SpawnFailed(e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message);
  }
  running.add(proc);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  try {
    const done = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    const result = await Promise.race([done, timeout]);
    if (result === "timeout") {
      proc.kill("SIGKILL");
      await proc.exited;
      throw new TimedOut(`nvidia-smi ${args.join(" ") || "(summary)"} did not finish within ${timeoutMs} ms and was killed`);
    }
    const [stdout, stderr, exitCode] = result;
    return { stdout, stderr, exitCode };
  } finally {
    clearTimeout(timer);
    running.delete(proc);
  }
}

/** The first non-empty line nvidia-smi printed, for an error message a person can act on. */
function firstLine(r: RunResult): string {
  const line = `${r.stdout}\n${r.stderr}`.split("\n").find((l) => l.trim() !== "");
  return line?.trim() ?? `exited with status ${r.exitCode} and printed nothing`;
}

/**
 * The reading's notice: a change in how many GPUs there are, and GPUs that became unusable.
 * Exported for its test; `unmatched` are error lines naming a GPU no earlier reading knew.
 */
export function readingNotice(
  previous: readonly GpuVitals[] | null,
  current: readonly GpuVitals[],
  unmatched: readonly UnreachableGpu[],
): string | undefined {
  const parts: string[] = [];
  if (previous && previous.length !== current.length) parts.push(`GPU count changed from ${previous.length} to ${current.length}`);
  for (const gpu of current) {
    const was = previous?.find((p) => p.uuid === gpu.uuid);
    if (gpu.lost && !was?.lost) parts.push(`GPU ${gpu.index} (${gpu.pciBusId ?? gpu.uuid}) is lost`);
  }
  for (const u of unmatched) parts.push(`nvidia-smi: ${u.message}`);
  return parts.length > 0 ? parts.join("; ") : undefined;
}

class NvidiaSmiSource implements GpuSource {
  readonly name = "nvidia-smi";
  /** Narrowed once per driver: the names this nvidia-smi refused are not asked again. */
  private fields: ResolvedField[] = preferredFields();
  private previous: GpuVitals[] | null = null;
  private readonly running = new Set<Bun.Subprocess>();
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly timeoutMs: number,
    private readonly owners: ProcessDirectory,
    private banner: SummaryBanner,
  ) {}

  private run(args: readonly string[]): Promise<RunResult> {
    if (this.closed) return Promise.reject(new Error("the nvidia-smi source is closed"));
    return runOnce(this.path, args, this.timeoutMs, this.running).catch((err) => {
      if (err instanceof SpawnFailed) throw new Error(`cannot run ${this.path}: ${err.message}`);
      throw err;
    });
  }

  /** The GPU query, narrowing the field list while nvidia-smi names a field it does not know. */
  private async queryGpus() {
    for (let tries = 0; tries <= GPU_FIELDS.length; tries++) {
      const r = await this.run(gpuQueryArgs(this.fields));
      const refused = r.exitCode !== 0 ? parseRefusedField(`${r.stdout}\n${r.stderr}`) : null;
      if (refused !== null) {
        const narrowed = withoutName(this.fields, refused);
        if (!narrowed) throw new Error(`nvidia-smi does not know the query field "${refused}", which Vigil cannot do without`);
        this.fields = narrowed;
        continue;
      }
      // A GPU off the bus makes nvidia-smi fail while still printing every other GPU's row.
      const parsed = r.exitCode === 0 ? parseGpuQuery(r.stdout, this.fields, this.banner.cudaVersion) : this.salvage(r);
      for (const line of r.stderr.split("\n")) {
        const u = parseUnreachable(line);
        if (u) parsed.unreachable.push(u);
      }
      return parsed;
    }
    throw new Error("nvidia-smi kept refusing query fields");
  }

  /** The rows of a failed query, when it printed any; otherwise its message as the error. */
  private salvage(r: RunResult) {
    let parsed: ReturnType<typeof parseGpuQuery> | undefined;
    try {
      parsed = parseGpuQuery(r.stdout, this.fields, this.banner.cudaVersion);
    } catch {
      // Not rows: the output is an error message, reported below.
    }
    if (!parsed || parsed.gpus.length === 0) throw new Error(`nvidia-smi --query-gpu failed: ${firstLine(r)}`);
    return parsed;
  }

  private async queryApps() {
    const r = await this.run(COMPUTE_APPS_ARGS);
    if (r.exitCode === 0) return parseComputeApps(r.stdout);
    try {
      // As with the GPU query: a lost GPU's error line above the other GPUs' processes.
      const parsed = parseComputeApps(r.stdout);
      if (parsed.unreachable.length > 0) return parsed;
    } catch {
      // Not processes: the output is an error message, reported below.
    }
    throw new Error(`nvidia-smi --query-compute-apps failed: ${firstLine(r)}`);
  }

  async collect(): Promise<GpuReading> {
    // Both at once (each nvidia-smi run takes a while on a large machine); the GPU query's error matters more.
    const [gpuResult, appsResult] = await Promise.allSettled([this.queryGpus(), this.queryApps()]);
    if (gpuResult.status === "rejected") throw gpuResult.reason;
    if (appsResult.status === "rejected") throw appsResult.reason;
    const [query, apps] = [gpuResult.value, appsResult.value];
    const driver = query.gpus.find((g) => g.driverVersion)?.driverVersion ?? null;
    if (driver && this.banner.driverVersion && driver !== this.banner.driverVersion) {
      // The driver was replaced under us; the CUDA version in the banner went with it.
      const r = await this.run(SUMMARY_ARGS);
      this.banner = parseSummaryBanner(r.stdout) ?? { driverVersion: driver, cudaVersion: null };
      for (const gpu of query.gpus) gpu.cudaVersion = this.banner.cudaVersion;
    }
    const gpus = attachProcesses(query.gpus, apps.apps, (pid) => this.owners.describe(pid));
    // A GPU that an earlier reading knew by its bus id stays in the list, lost, rather than vanishing.
    const unmatched: UnreachableGpu[] = [];
    for (const u of query.unreachable) {
      const known = u.busId ? this.previous?.find((p) => p.pciBusId && sameBusId(p.pciBusId, u.busId!)) : undefined;
      if (known && !gpus.some((g) => g.uuid === known.uuid)) gpus.push(lostGpu(known));
      else if (!known) unmatched.push(u);
    }
    gpus.sort((a, b) => a.index - b.index);
    const notice = readingNotice(this.previous, gpus, unmatched);
    this.previous = gpus;
    return notice === undefined ? { gpus } : { gpus, notice };
  }

  close(): void {
    this.closed = true;
    for (const proc of this.running) proc.kill("SIGKILL");
  }
}

/**
 * Opens the nvidia-smi source: runs plain `nvidia-smi` once, which both proves the driver answers
 * and gives the CUDA version. Throws GpuSourceUnavailable when nvidia-smi is missing, hangs or fails.
 */
export async function openNvidiaSmi(opts: NvidiaSmiOptions = {}): Promise<GpuSource> {
  const path = opts.path || "nvidia-smi";
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let r: RunResult;
  try {
    r = await runOnce(path, SUMMARY_ARGS, timeoutMs, new Set());
  } catch (err) {
    if (err instanceof SpawnFailed) throw new GpuSourceUnavailable(`nvidia-smi not found: ${err.message}`);
    if (err instanceof TimedOut) throw new GpuSourceUnavailable(err.message);
    throw err;
  }
  const banner = parseSummaryBanner(r.stdout);
  // With one GPU off the bus nvidia-smi exits non-zero yet prints the table for the others: usable.
  if (r.exitCode !== 0 && !banner) {
    const line = firstLine(r);
    throw new GpuSourceUnavailable(/nvidia-smi/i.test(line) ? line : `nvidia-smi: ${line}`);
  }
  if (!banner) throw new GpuSourceUnavailable(`nvidia-smi printed no summary table: ${firstLine(r)}`);
  return new NvidiaSmiSource(path, timeoutMs, new ProcessDirectory(opts.procRoot || "/proc"), banner);
}
