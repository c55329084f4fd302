// Which paths a probe may read or write: resolved like the kernel would (symlinks, "..") and then kept under VIGIL_PROBE_PATHS.
import { lstat, readlink, realpath } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";

/** Symlinks followed at most, as the kernel's ELOOP limit (MAXSYMLINKS is 40). */
const MAX_LINKS = 40;

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/**
 * Where `path` leads once every symlink and ".." is followed, the way the kernel would walk it, even
 * when its last parts do not exist yet: the existing part goes through realpath, and a missing
 * component is appended to its real parent (a dangling symlink to its target). Lexical
 * normalisation alone would be wrong: "/srv/models/link/../x" with link -> /etc is /x to the kernel.
 */
export async function resolveReal(path: string, links = 0): Promise<string> {
  try {
    return await realpath(path);
  } catch (err) {
    if (code(err) !== "ENOENT" && code(err) !== "ENOTDIR") throw err;
  }
  const parent = dirname(path);
  if (parent === path) return path;
  const name = basename(path);
  let entry: Awaited<ReturnType<typeof lstat>> | null = null;
  try {
    entry = await lstat(path);
  } catch (err) {
    if (code(err) !== "ENOENT" && code(err) !== "ENOTDIR") throw err;
  }
  const realParent = await resolveReal(parent, links);
  if (entry?.isSymbolicLink()) {
    // A symlink whose target does not exist: where it points decides, not where it sits.
    if (links >= MAX_LINKS) throw Object.assign(new Error(`too many levels of symbolic links: ${path}`), { code: "ELOOP" });
    const target = await readlink(path);
    return resolveReal(isAbsolute(target) ? target : join(realParent, target), links + 1);
  }
  // The parent is real (no links left in it), so joining even ".." here is what the kernel would do.
  return resolve(realParent, name);
}

export class PathRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PathRefused";
  }
}

/**
 * The real path of `path`, or a PathRefused when it is relative or does not lead under one of `roots`
 * (VIGIL_PROBE_PATHS). The roots are resolved too, so a root that is itself a symlink still works.
 * The answer names the path as asked and, when it differs, where it leads.
 */
export async function allowedPath(path: string, roots: readonly string[]): Promise<string> {
  if (!isAbsolute(path)) throw new PathRefused(`path ${JSON.stringify(path)} is not absolute`);
  if (path.includes("\0")) throw new PathRefused(`path ${JSON.stringify(path)} contains a NUL character`);
  const real = await resolveReal(path);
  for (const root of roots) {
    let realRoot: string;
    try {
      realRoot = await realpath(root);
    } catch {
      continue; // a root that does not exist (yet) holds nothing to read
    }
    if (real === realRoot || real.startsWith(realRoot.endsWith("/") ? realRoot : `${realRoot}/`)) return real;
  }
  const leads = real === path ? "" : ` (it leads to ${real})`;
  const listed = roots.length ? roots.join(", ") : "not set: this agent reads no files";
  throw new PathRefused(`path ${path} is not under VIGIL_PROBE_PATHS (${listed})${leads}`);
}
