// Compiles dist/vigil: one executable carrying the runtime, static assets, migrations and PGlite's wasm and data.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dir, "..");
const outfile = process.argv[2] ? resolve(process.argv[2]) : resolve(root, "dist/vigil");

function gitCommit(): string {
  const r = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: root, stderr: "ignore" });
  if (r.exitCode !== 0) return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { cwd: root }).stdout.toString().trim() !== "";
  return r.stdout.toString().trim() + (dirty ? "-dirty" : "");
}

// --bytecode needs --format=esm because main.ts uses top-level await (NOTES.md); it halves start-up time.
// The rest keeps `vigil agent` small (target: under 40 MB RSS; BENCHMARKS.md, "The agent: CPU and memory", median
// RSS 52 -> 37 MiB). Each was measured alone against the same baseline:
// - --splitting: each dynamic import() becomes a chunk that is loaded (its bytecode read) only when imported, so the
//   agent no longer loads the head's code (Elysia, drizzle, PGlite's glue, the views): about 7 MiB less.
// - --compile-jit-policy=1000000: JavaScriptCore's tier-up thresholds times a million, so the agent's once-a-second
//   work stays in the interpreter (no JIT compilers' code paged in, no JIT code): about 6 MiB less on top of
//   --splitting, and less CPU per sample. src/main.ts puts the normal policy (1) back for every other command.
// - --bytecode-order (below): about 2 MiB less.
// Tried and not taken: --compile-exec-argv=--smol (no less), --bytecode-depth=0 (no difference).
const flags = [
  "--compile",
  "--minify",
  "--bytecode",
  "--format=esm",
  "--splitting",
  "--compile-jit-policy=1000000",
  "--define",
  `VIGIL_BUILD_COMMIT=${JSON.stringify(gitCommit())}`,
];

function compile(out: string, extra: string[] = []): void {
  const args = ["build", ...flags, ...extra, "src/main.ts", "--outfile", out];
  const proc = Bun.spawnSync([process.execPath, ...args], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (proc.exitCode !== 0) {
    console.error(`build failed: bun ${args.join(" ")} exited ${proc.exitCode}`);
    process.exit(1);
  }
}

mkdirSync(resolve(outfile, ".."), { recursive: true });
const started = performance.now();
// Profile-guided bytecode layout: a first build runs `agent --once --json` (no head needed; a clean environment, so no
// VIGIL_HEAD turns it into a real agent) recording the functions it uses, and the second build puts their bytecode
// together at the front, so the agent pages in less of the binary. Without a profile the first build is the result.
const work = mkdtempSync(join(tmpdir(), "vigil-build-"));
try {
  const first = join(work, "vigil");
  const order = join(work, "agent.order");
  compile(first);
  const run = Bun.spawnSync([first, "agent", "--once", "--json"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BUN_BYTECODE_ORDER_OUT: order },
    stdout: "ignore",
    stderr: "pipe",
    timeout: 60_000,
  });
  if (run.exitCode === 0 && existsSync(order)) compile(outfile, [`--bytecode-order=${order}`]);
  else {
    console.warn(`warning: no bytecode profile (agent --once --json exited ${run.exitCode}: ${run.stderr.toString().trim().slice(-300)});`);
    console.warn("warning: the binary is built without --bytecode-order (the agent uses about 2 MiB more memory)");
    copyFileSync(first, outfile); // not renameSync: the temporary directory may be on another file system
    chmodSync(outfile, 0o755);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const mib = statSync(outfile).size / 2 ** 20;
console.log(`built ${outfile} (${mib.toFixed(1)} MiB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
