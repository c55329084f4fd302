// Size of the Docker data directory in bytes, measured in the background every few minutes by du.
//
// Walking /var/lib/docker can take minutes on a host with many images, so collect() never waits:
// it reports the latest finished measurement (null until the first one ends, and where the
// directory does not exist). The first measurement starts with the first collect(), the next one
// `dockerIntervalMs` after the last started, never two at once. A measurement that fails or runs
// past DU_TIMEOUT_MS makes collect() fail with the reason until the next one succeeds.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { hostRoot, type Collector } from "./collector.ts";

export const DOCKER_INTERVAL_MS = 5 * 60_000;
export const DU_TIMEOUT_MS = 60_000;

/** Measures a directory's size in bytes; aborting the signal stops it. */
export type Measure = (dir: string, signal: AbortSignal) => Promise<number>;

/**
 * Docker's "data-root" from daemon.json, which GPU servers often point at a large NVMe; null where
 * the file sets none. Invalid JSON is null too: dockerd refuses to start with it, so no other
 * directory can be in use.
 */
export function parseDataRoot(daemonJson: string): string | null {
  let config: unknown;
  try {
    config = JSON.parse(daemonJson);
  } catch {
    return null;
  }
  const dataRoot = (config as Record<string, unknown> | null)?.["data-root"];
  return typeof dataRoot === "string" && dataRoot.startsWith("/") ? dataRoot : null;
}

/** The data directory under the host root: daemon.json's data-root, else /var/lib/docker. */
export async function dockerDataDir(root: string): Promise<string> {
  const daemonJson = await readFile(join(root, "etc", "docker", "daemon.json"), "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT" || err.code === "ENOTDIR") return null;
    throw new Error(`failed to read ${join(root, "etc", "docker", "daemon.json")}: ${err.code ?? err.message}`);
  });
  return join(root, (daemonJson === null ? null : parseDataRoot(daemonJson)) ?? "/var/lib/docker");
}

/** du -sk prints "<KiB>\t<dir>"; KiB is the unit every du (GNU, BusyBox) agrees on. */
export function parseDu(output: string): number {
  const kib = /^(\d+)\s/.exec(output)?.[1];
  if (kib === undefined) throw new Error(`du printed ${JSON.stringify(output.slice(0, 200))}, expected "<KiB>\\t<dir>"`);
  return Number(kib) * 1024;
}

/**
 * Disk usage, not apparent size: devicemapper's loop files and VM images are sparse, with apparent
 * sizes far beyond what they occupy. -x stays on the data directory's filesystem, so the overlay
 * mounts of running containers (overlay2/<id>/merged) are not walked a second time. nice 19 also
 * lowers du's I/O priority: with no ionice class set, the kernel derives it from the nice value.
 */
export function duCommand(dir: string, which: (command: string) => string | null = Bun.which): string[] {
  const du = ["du", "-skx", "--", dir];
  return which("nice") === null ? du : ["nice", "-n", "19", ...du];
}

/** Runs a command to completion and returns its stdout; fails on a non-zero exit, the time limit, or the signal. */
export async function runBounded(cmd: string[], timeoutMs: number, signal?: AbortSignal): Promise<string> {
  const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe", killSignal: "SIGKILL", signal });
  // Neither does an exiting agent (vigil agent --once) wait for du, nor is du left walking the disk
  // as an orphan. The time limit is an unref'd timer of our own: Bun.spawn's `timeout` option
  // holds the process open until the command ends.
  proc.unref();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, timeoutMs);
  timer.unref();
  const killOnExit = () => proc.kill("SIGKILL");
  process.once("exit", killOnExit);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code === 0) return stdout;
    const name = cmd.find((part) => part === "du") ?? cmd[0];
    if (signal?.aborted) throw new Error(`${name} was stopped`);
    if (timedOut) throw new Error(`${name} timed out after ${timeoutMs / 1000} s`);
    if (proc.signalCode !== null) throw new Error(`${name} was killed by ${proc.signalCode}`);
    const reason = stderr.trim().split("\n")[0] ?? "";
    throw new Error(`${name} exited with ${code}${reason ? `: ${reason}` : ""}`);
  } finally {
    clearTimeout(timer);
    process.off("exit", killOnExit);
  }
}

export const measureWithDu: Measure = async (dir, signal) => parseDu(await runBounded(duCommand(dir), DU_TIMEOUT_MS, signal));

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    throw new Error(`failed to stat ${dir}: ${code ?? (err as Error).message}`);
  }
}

export function dockerCollector(measure: Measure = measureWithDu): Collector {
  let bytes: number | null = null;
  let failure: Error | null = null;
  let started = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = new AbortController();

  // Unref'd: the loop alone never keeps the agent's process alive.
  const schedule = (delayMs: number, run: () => Promise<void>) => {
    if (stop.signal.aborted) return;
    timer = setTimeout(() => void run(), delayMs);
    timer.unref();
  };

  async function measureRound(findDir: () => Promise<string>, intervalMs: number): Promise<void> {
    const startedAt = performance.now();
    let dir = "the Docker data directory";
    try {
      dir = await findDir();
      bytes = (await isDirectory(dir)) ? await measure(dir, stop.signal) : null;
      failure = null;
    } catch (err) {
      const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
      failure = new Error(`failed to measure ${dir} (after ${seconds} s): ${err instanceof Error ? err.message : String(err)}`);
    }
    schedule(Math.max(0, intervalMs - (performance.now() - startedAt)), () => measureRound(findDir, intervalMs));
  }

  return {
    name: "docker",
    collect({ procRoot, dockerDir, dockerIntervalMs }) {
      if (!started) {
        started = true;
        const findDir = dockerDir ? async () => dockerDir : () => dockerDataDir(hostRoot(procRoot));
        const intervalMs = dockerIntervalMs !== undefined && dockerIntervalMs > 0 ? dockerIntervalMs : DOCKER_INTERVAL_MS;
        // A timer rather than a direct call, so not even the stat or the spawn runs inside collect().
        schedule(0, () => measureRound(findDir, intervalMs));
      }
      if (failure !== null) throw failure;
      return { dockerDataBytes: bytes };
    },
    close() {
      stop.abort();
      clearTimeout(timer);
    },
  };
}
