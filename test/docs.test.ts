// The README stays true to the program: its first commands are the two make targets, and its table lists every setting.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { SETTINGS } from "../src/config.ts";
import { COMMANDS } from "../src/cli/index.ts";

const readme = await Bun.file(join(import.meta.dir, "../README.md")).text();

test("README opens with make run and make test", () => {
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
  const commands = firstBlock
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.split("#")[0]!.trim());
  expect(commands).toEqual(["make run", "make test"]);
});

test("README's configuration table names every flag and environment variable", () => {
  for (const s of Object.values(SETTINGS)) {
    if (s.env) expect(readme).toContain(`\`${s.env}`);
    if (s.flag) expect(readme).toContain(`--${s.flag}`);
  }
});

test("README lists every command", () => {
  for (const c of COMMANDS) expect(readme).toContain(`\`vigil ${c.name}`);
});
