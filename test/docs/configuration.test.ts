// docs/configuration.md is generated from the config table in src/config.ts: this fails when the committed file has drifted.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SETTINGS, type Config } from "../../src/config.ts";
import { COMMANDS } from "../../src/cli/index.ts";
import { DOC_PATH, MACHINE_DEPENDENT_DEFAULTS, firstDifference, renderConfigurationDoc } from "../../scripts/config-docs.ts";

const committed = readFileSync(DOC_PATH, "utf8");

test("docs/configuration.md equals the text generated from src/config.ts", () => {
  const diff = firstDifference(committed, renderConfigurationDoc());
  if (diff)
    throw new Error(`docs/configuration.md is stale: run \`bun scripts/config-docs.ts\` to regenerate. First difference at ${diff}`);
});

test("the page names every setting and every command", () => {
  for (const s of Object.values(SETTINGS)) {
    if (s.env) expect(committed).toContain(`\`${s.env}\``);
    if (s.flag) expect(committed).toContain(`\`--${s.flag}\``);
  }
  for (const c of COMMANDS) expect(committed).toContain(`\`vigil ${c.name}\``);
});

test("a default computed on the machine is one the page names", () => {
  for (const [key, doc] of Object.entries(MACHINE_DEPENDENT_DEFAULTS)) {
    expect(doc!.values).toContain(SETTINGS[key as keyof Config].default!);
  }
});

test("--check exits 0 on the committed file, and 1 naming the difference on a stale one", () => {
  const script = join(import.meta.dir, "../../scripts/config-docs.ts");
  const ok = Bun.spawnSync([process.execPath, script, "--check"], { env: process.env });
  expect(ok.exitCode).toBe(0);
  const dir = mkdtempSync(join(tmpdir(), "vigil-config-docs-"));
  try {
    const stale = join(dir, "configuration.md");
    writeFileSync(stale, committed.replace("`VIGIL_LISTEN`", "`VIGIL_LISTEN_OLD`"));
    const bad = Bun.spawnSync([process.execPath, script, "--check", stale], { env: process.env });
    expect(bad.exitCode).toBe(1);
    const stderr = bad.stderr.toString();
    expect(stderr).toContain("run `bun scripts/config-docs.ts` to regenerate");
    expect(stderr).toContain("committed: | `VIGIL_LISTEN_OLD`");
    expect(stderr).toContain("generated: | `VIGIL_LISTEN`");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the README links to the reference", () => {
  const readme = readFileSync(join(import.meta.dir, "../../README.md"), "utf8");
  expect(readme).toContain("(docs/configuration.md)");
});
