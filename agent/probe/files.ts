// The files probe: whether each required file (a model, a config) is there, with its size and modification time.
import { stat } from "node:fs/promises";
import { MAX_PROBE_FILES, type ProbeResult } from "../../src/protocol/messages.ts";
import { errorText, type ProbeContext } from "./context.ts";
import { allowedPath } from "./paths.ts";

type FileEntry = ProbeResult<"files">["files"][number];

/**
 * Every path must lead under VIGIL_PROBE_PATHS, checked for all of them before any is looked at: one
 * path outside refuses the whole probe, so a check cannot learn about a place by mixing it in.
 */
export async function filesProbe(probe: { paths: string[] }, ctx: ProbeContext): Promise<ProbeResult<"files">> {
  if (probe.paths.length > MAX_PROBE_FILES) throw new Error(`${probe.paths.length} paths asked; at most ${MAX_PROBE_FILES}`);
  const real: string[] = [];
  for (const path of probe.paths) real.push(await allowedPath(path, ctx.settings.paths));
  const files: FileEntry[] = [];
  for (const [i, path] of probe.paths.entries()) {
    // The resolved path, which has no symlink left in it: stat cannot be led outside by one.
    files.push(await describe(path, real[i]!));
  }
  return { files };
}

async function describe(path: string, real: string): Promise<FileEntry> {
  try {
    const s = await stat(real);
    const type = s.isFile() ? "file" : s.isDirectory() ? "directory" : "other";
    return { path, exists: true, type, size: s.size, mtime: s.mtime.toISOString() };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { path, exists: false, type: null, size: null, mtime: null };
    throw new Error(`cannot look at ${path}: ${errorText(err)}`);
  }
}
