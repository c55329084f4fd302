// Self-update: fetch the head's build beside the running binary, verify its sha256, rename it into place; systemd restarts us.
import { randomBytes } from "node:crypto";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { log as defaultLog, type Logger } from "../src/log.ts";

/**
 * The agent exits with this after an update. vigil-agent.service restarts on it (RestartForceExitStatus=75)
 * without counting it as a failure (SuccessExitStatus=75); 75 is EX_TEMPFAIL.
 */
export const RESTART_EXIT_CODE = 75;

/** The binary is ~130 MiB; anything far larger is not ours and must not fill the disk. */
const MAX_BINARY_BYTES = 1024 * 2 ** 20;
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Whether this process is `bun build --compile` output (whose entry point lives in Bun's embedded file system) rather than `bun src/main.ts`. */
export function isCompiledBinary(main: string = Bun.main): boolean {
  // process.execPath cannot tell: from source it is the bun runtime, which npm installs as ".../bin/bun.exe" even on Linux.
  return main.startsWith("/$bunfs/") || main.startsWith("B:/~BUN/");
}

/** sha256 of a file as lowercase hex, streamed (the binary is too large to read whole for nothing). */
export async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of chunks(Bun.file(path).stream())) hasher.update(chunk);
  return hasher.digest("hex");
}

/**
 * Whether version `head` is newer than `mine` ("1.2.3", "v1.2.3", "1.2.3-rc.1", build metadata ignored), by semver
 * precedence. Anything that does not parse is never newer: an agent must not chase a version it cannot compare.
 */
export function isNewer(head: string, mine: string): boolean {
  const a = parseVersion(head);
  const b = parseVersion(mine);
  if (!a || !b) return false;
  return compareVersions(a, b) > 0;
}

interface Version {
  core: [number, number, number];
  pre: string[];
}

function parseVersion(raw: string): Version | null {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(raw.trim());
  if (!m) return null;
  return { core: [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)], pre: m[4] ? m[4].split(".") : [] };
}

function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return a.core[i]! - b.core[i]!;
  // A release outranks its pre-releases: 1.0.0 > 1.0.0-rc.1.
  if (a.pre.length === 0 || b.pre.length === 0) return b.pre.length - a.pre.length;
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) return Number(x) - Number(y);
    if (xn !== yn) return xn ? -1 : 1; // numeric identifiers sort before alphanumeric ones
    return x < y ? -1 : 1;
  }
  return 0;
}

export interface SelfUpdateOptions {
  /** The head's base URL, e.g. http://head:8480. */
  head: string;
  /** Where the head serves the binary, e.g. /download/vigil-linux-x64 (a path on the head, never another host). */
  path: string;
  /** The sha256 the head announced; the download must match it. */
  sha256: string;
  /**
   * The file to replace. Default: the running binary (process.execPath), and only when running compiled: from
   * source that is the bun runtime. An explicit target is replaced either way (tests, or a caller that knows).
   */
  target?: string;
  fetch?: typeof fetch;
  log?: Pick<Logger, "info" | "warn">;
  timeoutMs?: number;
}

/**
 * Replaces the target with the head's binary when they differ. The download goes to a temp file in the target's own
 * directory, so the final rename is atomic: the target is the old file or the new one, never half of either. On
 * "updated" the caller exits with RESTART_EXIT_CODE for systemd to start the new binary. Throws (target untouched,
 * temp file removed) when the download fails or does not match the announced sha256.
 */
export async function selfUpdate(opts: SelfUpdateOptions): Promise<"updated" | "skipped"> {
  const log = opts.log ?? defaultLog.child({ component: "self-update" });
  const expected = opts.sha256.trim().toLowerCase();
  if (!SHA256_HEX.test(expected)) throw new Error(`self-update: "${opts.sha256}" is not a sha256 (64 hex digits)`);
  if (opts.target === undefined && !isCompiledBinary()) {
    log.info("self-update skipped: running from source, not as the compiled binary; there is no binary to replace", { main: Bun.main });
    return "skipped";
  }
  const target = opts.target ?? process.execPath;
  const current = await sha256File(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return null;
    throw new Error(`self-update: cannot read ${target}: ${err.message}`);
  });
  if (current === expected) {
    log.info("self-update skipped: already this build", { target, sha256: expected });
    return "skipped";
  }

  const url = downloadUrl(opts.head, opts.path);
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.update-${process.pid}-${randomBytes(4).toString("hex")}`);
  let file: FileHandle | undefined;
  let renamed = false;
  try {
    const res = await (opts.fetch ?? fetch)(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? DOWNLOAD_TIMEOUT_MS) });
    if (!res.ok || !res.body) {
      const body = (await res.text().catch(() => "")).slice(0, 200);
      throw new Error(`self-update: GET ${url} answered ${res.status}${body ? `: ${body}` : ""}`);
    }
    try {
      // wx: never follow or reuse something already at that name; 0600 until verified.
      file = await open(temp, "wx", 0o600);
    } catch (err) {
      throw new Error(`self-update: cannot write beside ${target}: ${(err as Error).message}`);
    }
    const hasher = new Bun.CryptoHasher("sha256");
    let bytes = 0;
    for await (const chunk of chunks(res.body)) {
      bytes += chunk.byteLength;
      if (bytes > MAX_BINARY_BYTES) throw new Error(`self-update: ${url} is larger than ${MAX_BINARY_BYTES} bytes; refused`);
      hasher.update(chunk);
      await writeAll(file, chunk);
    }
    const got = hasher.digest("hex");
    if (got !== expected) {
      throw new Error(`self-update refused: ${url} has sha256 ${got}, the head announced ${expected}; ${target} was left as it was`);
    }
    await file.chmod(0o755);
    // Data on disk before the rename makes it visible: a power cut must not leave an empty binary behind.
    await file.sync();
    await file.close();
    file = undefined;
    await rename(temp, target);
    renamed = true;
    await syncDirectory(dir);
    log.info("self-update installed; restarting on the new binary", { target, sha256: expected, bytes, previous: current });
    return "updated";
  } finally {
    await file?.close().catch(() => {});
    if (!renamed) await rm(temp, { force: true });
  }
}

/** The download URL on the head itself: a path like /download/x, never an absolute URL that would point elsewhere. */
function downloadUrl(head: string, path: string): string {
  if (!path.startsWith("/") || path.startsWith("//")) throw new Error(`self-update: "${path}" is not a path on the head`);
  const base = new URL(head);
  if (base.protocol !== "http:" && base.protocol !== "https:") throw new Error(`self-update: "${head}" is not an http(s) URL`);
  return new URL(path, base).toString();
}

/** A stream's chunks as an async iterable (the DOM typings give ReadableStream no async iterator). */
async function* chunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } finally {
    // Stopped early (refused or failed): close the download instead of leaving the connection half-read.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

/** Makes the rename itself durable (the directory entry), as far as the file system allows. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r").catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename has happened either way.
  } finally {
    await handle.close();
  }
}
