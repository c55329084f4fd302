// Compiles dist/vigil: one executable carrying the runtime, static assets, migrations and PGlite's wasm and data.
import { mkdirSync, statSync } from "node:fs";
import { resolve } from "node:path";

const root = resolve(import.meta.dir, "..");
const outfile = process.argv[2] ? resolve(process.argv[2]) : resolve(root, "dist/vigil");

function gitCommit(): string {
  const r = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: root, stderr: "ignore" });
  if (r.exitCode !== 0) return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { cwd: root }).stdout.toString().trim() !== "";
  return r.stdout.toString().trim() + (dirty ? "-dirty" : "");
}

mkdirSync(resolve(outfile, ".."), { recursive: true });
const started = performance.now();
// --bytecode needs --format=esm because main.ts uses top-level await (NOTES.md); it halves start-up time.
const args = [
  "build",
  "--compile",
  "--minify",
  "--bytecode",
  "--format=esm",
  `--define`,
  `VIGIL_BUILD_COMMIT=${JSON.stringify(gitCommit())}`,
  "src/main.ts",
  "--outfile",
  outfile,
];
const proc = Bun.spawnSync([process.execPath, ...args], { cwd: root, stdout: "inherit", stderr: "inherit" });
if (proc.exitCode !== 0) {
  console.error(`build failed: bun ${args.join(" ")} exited ${proc.exitCode}`);
  process.exit(1);
}
const mib = statSync(outfile).size / 2 ** 20;
console.log(`built ${outfile} (${mib.toFixed(1)} MiB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
