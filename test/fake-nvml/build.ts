// Compiles the fake NVML (fake_nvml.c) with the machine's C compiler into a cached libnvidia-ml.so.1 per flavour.
import { mkdirSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";

export type FakeNvmlFlavour = "full" | "old";

const HERE = import.meta.dir;
const SOURCES = [join(HERE, "fake_nvml.c"), join(HERE, "fake_nvml.h")];

/** Where a flavour's library lands; build/ is gitignored. */
export function fakeNvmlPath(flavour: FakeNvmlFlavour): string {
  return join(HERE, "build", flavour, "libnvidia-ml.so.1");
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/**
 * Returns the path of the flavour's libnvidia-ml.so.1, compiling it first when it is missing or older than its source.
 * "old" is built with -DOLD_DRIVER: only the symbols of an old driver, to prove the optional-symbol paths.
 */
export async function buildFakeNvml(flavour: FakeNvmlFlavour): Promise<string> {
  const out = fakeNvmlPath(flavour);
  const built = mtime(out);
  if (built >= 0 && SOURCES.every((src) => mtime(src) <= built)) return out;

  mkdirSync(join(HERE, "build", flavour), { recursive: true });
  // Build beside the target and rename: test files and the bench may build at the same time.
  const tmp = `${out}.${process.pid}.tmp`;
  const cc = process.env.CC || "cc";
  const args = [cc, "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-fvisibility=hidden", "-Wl,-soname,libnvidia-ml.so.1"];
  if (flavour === "old") args.push("-DOLD_DRIVER");
  args.push("-o", tmp, SOURCES[0]!);
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`failed to build the fake NVML (${flavour}): ${args.join(" ")} exited ${code}\n${stderr}`);
  renameSync(tmp, out);
  return out;
}
