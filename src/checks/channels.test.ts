import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { checkContext, closedPort, httpServer, type LocalServer } from "../../test/checks/harness.ts";
import { startTestHead, type TestHead } from "../../test/harness/head.ts";
import { channels as channelsTable } from "../db/schema/index.ts";
import { channels, reachTarget } from "./channels.ts";

let head: TestHead;
let receiver: LocalServer;
let requests = 0;
beforeAll(async () => {
  head = await startTestHead("postgres");
  receiver = httpServer(() => {
    requests++;
    return new Response("ok");
  });
}, 60_000);
afterAll(async () => {
  await receiver.stop();
  await head.close();
});

const ctx = () => checkContext({ head: head.ctx });
async function addChannel(name: string, kind: string, config: Record<string, unknown>, enabled = true): Promise<number> {
  const [row] = await head.ctx.database.db
    .insert(channelsTable)
    .values({ name, kind, config, enabled })
    .returning({ id: channelsTable.id });
  return row!.id;
}

describe("channels check on a real head, against real local servers", () => {
  test("healthy: no channel but the dashboard (and disabled ones) is nothing unreachable", async () => {
    await addChannel("screen", "dashboard", {});
    await addChannel("old-hook", "webhook", { url: `http://127.0.0.1:${closedPort()}/hook` }, false);
    const o = await channels.run({}, ctx());
    expect(o).toEqual({
      status: "healthy",
      latencyMs: null,
      message: "no notification channel: alerts reach the dashboard only",
      details: { channels: [] },
    });
  });

  let hookId = 0;
  test("healthy: every channel's server accepts a connection, and nothing is posted", async () => {
    hookId = await addChannel("ops-hook", "webhook", { url: `${receiver.url}/secret-token-path` });
    const o = await channels.run({}, ctx());
    expect(o.status).toBe("healthy");
    expect(o.message).toBe("1 channel reachable");
    expect(o.details.channels).toEqual([
      {
        id: hookId,
        name: "ops-hook",
        kind: "webhook",
        target: `127.0.0.1:${receiver.port}`,
        reachable: true,
        latencyMs: expect.any(Number),
      },
    ]);
    expect(JSON.stringify(o.details)).not.toContain("secret-token-path");
    expect(requests).toBe(0);
  });

  test("degraded: some channels unreachable, named with why", async () => {
    const port = closedPort();
    await addChannel("mail", "email", { host: "127.0.0.1", port, from: "vigil@example.com", to: ["ops@example.com"] });
    const o = await channels.run({}, ctx());
    expect(o.status).toBe("degraded");
    expect(o.message).toBe(`1 of 2 channels unreachable: mail (127.0.0.1:${port}: connection refused)`);
  });

  test("down: none reachable (a refused address counts as unreachable)", async () => {
    await head.ctx.database.db.update(channelsTable).set({ enabled: false }).where(eq(channelsTable.id, hookId));
    await addChannel("cloud-ntfy", "ntfy", { server: "http://169.254.169.254", topic: "x" });
    const o = await channels.run({}, ctx());
    expect(o.status).toBe("down");
    expect(o.message).toStartWith("no channel reachable: cloud-ntfy (169.254.169.254:80: 169.254.169.254 is a link-local");
    expect(o.message).toContain("; mail (127.0.0.1:");
  });

  test("reachTarget reads each notifier's stored config", () => {
    expect(reachTarget("slack", { url: "https://hooks.slack.com/services/T/B/X" })).toEqual({ host: "hooks.slack.com", port: 443 });
    expect(reachTarget("discord", { url: "http://discord.test:8080/api" })).toEqual({ host: "discord.test", port: 8080 });
    expect(reachTarget("ntfy", { topic: "t" })).toEqual({ host: "ntfy.sh", port: 443 });
    expect(reachTarget("email", { host: "smtp.example.com", security: "tls" })).toEqual({ host: "smtp.example.com", port: 465 });
    expect(reachTarget("email", { host: "smtp.example.com" })).toEqual({ host: "smtp.example.com", port: 587 });
    expect(reachTarget("webhook", {})).toEqual({ error: "the config has no url" });
    expect(reachTarget("pager", {})).toEqual({ error: 'no reachability test for channel kind "pager"' });
  });
});
