// The filesystem check: free space against thresholds and an optional write test, on the head or (with a worker) on the worker through its agent.
import { randomBytes } from "node:crypto";
import { readFile, open, stat, statfs, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Type, type Static } from "@sinclair/typebox";
import { formatBytes } from "../../views/components/format.ts";
import type { Checker, CheckContext, CheckOutcome, HealthStatus } from "./checker.ts";
import { answered, diagnoseLines, down, errorText, failure, neverThrows, roundMs, since, withDeadline } from "./outcome.ts";
import { askAgent, isOutcome } from "./probe.ts";

export const DEFAULT_WARN_FREE_PERCENT = 10;
export const DEFAULT_MIN_FREE_PERCENT = 5;

export const filesystemSchema = Type.Object(
  {
    path: Type.String({
      pattern: "^/",
      description:
        "An absolute path on the filesystem to watch (a mount point or any directory on it); on the worker when the service has one.",
      examples: ["/var/lib/vigil", "/models"],
    }),
    warnFreePercent: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 100,
        default: DEFAULT_WARN_FREE_PERCENT,
        description: `Degraded when less than this percent of the space is free. Default ${DEFAULT_WARN_FREE_PERCENT}.`,
      }),
    ),
    minFreePercent: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 100,
        default: DEFAULT_MIN_FREE_PERCENT,
        description: `Down when less than this percent is free. Default ${DEFAULT_MIN_FREE_PERCENT}.`,
      }),
    ),
    minFreeBytes: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: "Down when fewer bytes than this are free, whatever the percent (a big disk at 3 % may still hold a model).",
        examples: [50 * 1024 ** 3],
      }),
    ),
    writeTest: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "Also create, fsync and delete a small file in the directory: down when that fails (read-only remount, full, permissions).",
      }),
    ),
  },
  { additionalProperties: false },
);

export type FilesystemConfig = Static<typeof filesystemSchema>;

export interface Space {
  /** Bytes an unprivileged process may still write (statfs bavail). */
  free: number;
  total: number;
}

/** Free space against the thresholds: down below minFreeBytes or minFreePercent, degraded below warnFreePercent. */
export function judgeSpace(space: Space, config: FilesystemConfig): { status: HealthStatus; text: string; freePercent: number } {
  const freePercent = space.total > 0 ? (space.free / space.total) * 100 : 0;
  const pct = `${freePercent.toFixed(freePercent < 10 ? 1 : 0)} %`;
  const amount = `${formatBytes(space.free)} free of ${formatBytes(space.total)} (${pct})`;
  const minPercent = config.minFreePercent ?? DEFAULT_MIN_FREE_PERCENT;
  const warnPercent = config.warnFreePercent ?? DEFAULT_WARN_FREE_PERCENT;
  if (config.minFreeBytes !== undefined && space.free < config.minFreeBytes)
    return { status: "down", text: `only ${amount}, below ${formatBytes(config.minFreeBytes)}`, freePercent };
  if (freePercent < minPercent) return { status: "down", text: `only ${amount}, below ${minPercent} %`, freePercent };
  if (freePercent < warnPercent) return { status: "degraded", text: `${amount}, below ${warnPercent} %`, freePercent };
  return { status: "healthy", text: amount, freePercent };
}

/** Creates, fsyncs and deletes a small file in `dir`: what a full, read-only or permission-broken filesystem refuses. */
export async function writeTest(dir: string): Promise<void> {
  const file = join(dir, `.vigil-write-test-${process.pid}-${randomBytes(4).toString("hex")}`);
  const handle = await open(file, "wx", 0o600);
  try {
    await handle.writeFile("vigil write test\n");
    await handle.sync();
  } finally {
    await handle.close();
    await unlink(file).catch(() => {});
  }
}

/** The directory a path's write test uses: the path itself, or the directory holding it when it is a file. */
async function directoryOf(path: string): Promise<string> {
  return (await stat(path)).isDirectory() ? path : dirname(path);
}

interface Measured {
  space: Space;
  /** The write test's time, or statfs' when there was none. */
  latencyMs: number;
  writeError?: string;
}

async function measureHere(config: FilesystemConfig, signal: AbortSignal): Promise<Measured> {
  let started = performance.now();
  const s = await statfs(config.path);
  const space = { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
  let latencyMs = performance.now() - started;
  if (!config.writeTest || signal.aborted) return { space, latencyMs };
  const dir = await directoryOf(config.path);
  started = performance.now();
  try {
    await writeTest(dir);
  } catch (err) {
    return { space, latencyMs, writeError: `write test in ${dir}: ${errorText(err)}` };
  }
  latencyMs = performance.now() - started;
  return { space, latencyMs };
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

async function runFilesystem(config: FilesystemConfig, ctx: CheckContext): Promise<CheckOutcome> {
  const onWorker = ctx.workerId !== null;
  const where = `${config.path}${onWorker ? ` on worker ${ctx.workerId}` : ""}`;
  const details: Record<string, unknown> = { path: config.path, on: onWorker ? `worker ${ctx.workerId}` : "head" };
  let m: Measured;
  if (ctx.workerId !== null) {
    const started = performance.now();
    const writeTest = config.writeTest ?? false;
    const reply = await askAgent(ctx, ctx.workerId, { kind: "filesystem", path: config.path, writeTest }, where, details);
    if (isOutcome(reply)) return reply;
    const r = reply.answer.result;
    const free = num(r.free);
    const total = num(r.total);
    if (free === null || total === null) return down(`${where}: the agent's answer has no free and total bytes`, { ...details, ...r });
    const writeError = writeTest && r.writable === false ? `write test: ${String(r.writeError ?? r.error ?? "not writable")}` : undefined;
    m = { space: { free, total }, latencyMs: num(r.latencyMs) ?? since(started), ...(writeError ? { writeError } : {}) };
  } else {
    try {
      m = await withDeadline(ctx, (signal) => measureHere(config, signal));
    } catch (err) {
      return failure(`statfs ${where}`, err, details);
    }
  }
  const judged = judgeSpace(m.space, config);
  Object.assign(details, {
    freeBytes: m.space.free,
    totalBytes: m.space.total,
    freePercent: Math.round(judged.freePercent * 10) / 10,
    ...(config.writeTest ? { writable: m.writeError === undefined } : {}),
  });
  if (m.writeError) return down(`${where}: ${m.writeError}; ${judged.text}`, { ...details, writeError: m.writeError });
  const text = `${where}: ${judged.text}${config.writeTest ? `; write test passed in ${Math.round(m.latencyMs)} ms` : ""}`;
  if (judged.status !== "healthy") return { status: judged.status, latencyMs: roundMs(m.latencyMs), message: text, details };
  return answered(m.latencyMs, ctx, text, details);
}

/** The mount holding `path`: the longest mount point that prefixes it, from /proc/self/mounts. */
export function mountOf(mountsText: string, path: string): { device: string; mountPoint: string; type: string; options: string } | null {
  let best: { device: string; mountPoint: string; type: string; options: string } | null = null;
  for (const line of mountsText.split("\n")) {
    const [device, rawPoint, type, options] = line.split(" ");
    if (!device || !rawPoint || !type) continue;
    // /proc/mounts escapes space, tab, newline and backslash as octal.
    const mountPoint = rawPoint.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    const inside = mountPoint === "/" || path === mountPoint || path.startsWith(`${mountPoint}/`);
    if (inside && (!best || mountPoint.length >= best.mountPoint.length)) best = { device, mountPoint, type, options: options ?? "" };
  }
  return best;
}

export const filesystem: Checker<typeof filesystemSchema> = {
  kind: "filesystem",
  label: "Filesystem space",
  schema: filesystemSchema,
  needsWorker: false,
  run: (config, ctx) => neverThrows(`filesystem ${config.path}`, () => runFilesystem(config, ctx)),
  diagnose: (config, ctx) =>
    diagnoseLines(async (lines) => {
      if (ctx.workerId === null) {
        const mounts = await readFile("/proc/self/mounts", "utf8").catch(() => null);
        const mount = mounts === null ? null : mountOf(mounts, config.path);
        lines.push(
          mount
            ? `${config.path} is on ${mount.device} mounted at ${mount.mountPoint} (${mount.type}, ${mount.options})`
            : `mount of ${config.path}: /proc/self/mounts unreadable or no match`,
        );
      } else lines.push(`${config.path} is checked on worker ${ctx.workerId} by its agent`);
      const o = await runFilesystem(config, ctx);
      lines.push(`${o.status}: ${o.message}`);
    }),
};
