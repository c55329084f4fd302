// docs/webhooks.md against the code: the example body's notification id has the form the engine gives it.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const page = readFileSync(join(import.meta.dir, "../../docs/webhooks.md"), "utf8");

test("the example id is <event id>.<channel id>, as src/alerts/engine.ts builds it, and the table says so", () => {
  const body = /## The body\s+```json\n([\s\S]*?)```/.exec(page)?.[1];
  expect(body).toBeDefined();
  const id = (JSON.parse(body!) as { id: unknown }).id;
  expect(id).toMatch(/^\d+\.\d+$/);
  const engine = readFileSync(join(import.meta.dir, "../../src/alerts/engine.ts"), "utf8");
  expect(engine).toContain("`${eventId}.${c.id}`");
  const row = page.split("\n").find((l) => l.startsWith("| `id`"));
  expect(row).toContain("`<event id>.<channel id>`");
  // A "send test" notification: src/notifiers/test-notification.ts.
  expect(row).toContain("`test-<uuid>`");
  expect(readFileSync(join(import.meta.dir, "../../src/notifiers/test-notification.ts"), "utf8")).toContain("id: `test-${randomUUID()}`");
});
