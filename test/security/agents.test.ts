// Attacks on the agent side of the head: replayed and expired tokens, revoked and rotated credentials, bad payloads.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { SYSTEM } from "../../src/auth/audit.ts";
import { hostSamples, workers } from "../../src/db/schema/index.ts";
import { addWorker, enroll, revokeWorker, rotateWorker } from "../../src/fleet/enrollment.ts";
import { MAX_MESSAGE_BYTES } from "../../src/protocol/messages.ts";
import { describeEachEngine } from "../harness/engines.ts";
import { startTestHead, type TestHead } from "../harness/head.ts";
import { makeSample } from "../fixtures/samples.ts";

describeEachEngine("agent endpoints under attack", (engine) => {
  let head: TestHead;
  beforeAll(async () => {
    head = await startTestHead(engine);
  }, 60_000);
  afterAll(() => head.close());

  const enrollReq = (token: string, machineId = "m-1") =>
    head.request("/api/v1/agent/enroll", { json: { token, hostname: "h", machineId }, crossSite: true });
  const ingest = (secret: string, body: unknown) =>
    head.request("/api/v1/ingest", {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      json: body,
      crossSite: true,
    });

  test("an enrollment token works once: a replay, from this machine or another, is refused", async () => {
    const t = await addWorker(head.database.db, SYSTEM, "gpu-replay");
    const first = await enrollReq(t.token, "machine-a");
    expect(first.status).toBe(200);
    const again = await enrollReq(t.token, "machine-b");
    expect(again.status).toBe(403);
    expect((await again.json()).error).toContain("already used or expired");
    expect((await enrollReq("vge_made-up")).status).toBe(403);
    expect((await enrollReq("not even a token")).status).toBe(403);
  });

  test("an expired enrollment token is refused", async () => {
    const t = await addWorker(head.database.db, SYSTEM, "gpu-expired");
    await head.database.db
      .update(workers)
      .set({ enrollmentExpiresAt: new Date(Date.now() - 1000) })
      .where(eq(workers.id, t.workerId));
    expect((await enrollReq(t.token)).status).toBe(403);
  });

  test("samples land on the credential's worker, whatever the sample claims", async () => {
    const a = await enroll(head.database.db, (await addWorker(head.database.db, SYSTEM, "gpu-a")).token, {});
    const b = await enroll(head.database.db, (await addWorker(head.database.db, SYSTEM, "gpu-b")).token, {});
    const r = await ingest(a.secret, { samples: [makeSample(1, { hostname: "gpu-b", ts: new Date(Date.now() - 2000) })] });
    expect(r.status).toBe(200);
    expect((await r.json()).acked).toEqual([1]);
    await head.ctx.writer.flush();
    const onB = await head.database.db.select().from(hostSamples).where(eq(hostSamples.workerId, b.workerId));
    const onA = await head.database.db.select().from(hostSamples).where(eq(hostSamples.workerId, a.workerId));
    expect(onB).toHaveLength(0);
    expect(onA).toHaveLength(1);
    // An API token, even an admin's, is not an agent credential.
    expect((await head.request("/api/v1/ingest", { as: "admin-token", json: { samples: [] } })).status).toBe(401);
  });

  test("a revoked or rotated worker is refused at once", async () => {
    const r1 = await enroll(head.database.db, (await addWorker(head.database.db, SYSTEM, "gpu-revoked")).token, {});
    expect((await ingest(r1.secret, { samples: [makeSample(2, { ts: new Date(Date.now() - 3000) })] })).status).toBe(200);
    await revokeWorker(head.database.db, SYSTEM, "gpu-revoked");
    expect((await ingest(r1.secret, { samples: [makeSample(3, { ts: new Date(Date.now() - 2000) })] })).status).toBe(401);

    const r2 = await enroll(head.database.db, (await addWorker(head.database.db, SYSTEM, "gpu-rotated")).token, {});
    const ticket = await rotateWorker(head.database.db, SYSTEM, "gpu-rotated");
    expect((await ingest(r2.secret, { samples: [makeSample(4)] })).status).toBe(401);
    const r3 = await enroll(head.database.db, ticket.token, {});
    expect((await ingest(r3.secret, { samples: [makeSample(5, { ts: new Date(Date.now() - 1000) })] })).status).toBe(200);
  });

  test("malformed and oversized payloads get a 4xx that says why, and store nothing", async () => {
    const s = head.agent.secret;
    const count = async () =>
      (
        await head.database.db
          .select({ n: sql<number>`count(*)::int` })
          .from(hostSamples)
          .where(eq(hostSamples.workerId, head.agent.workerId))
      )[0]!.n;
    const before = await count();
    const notJson = await head.request("/api/v1/ingest", {
      method: "POST",
      headers: { authorization: `Bearer ${s}`, "content-type": "application/json" },
      crossSite: true,
      form: undefined,
      json: undefined,
    });
    expect(notJson.status).toBe(400);
    const badField = await ingest(s, { samples: [{ ...makeSample(7), gpus: [{ index: "zero" }] }] });
    expect(badField.status).toBe(400);
    expect(JSON.stringify(await badField.json())).toContain("/gpus/0");
    expect((await ingest(s, { samples: [] })).status).toBe(400);
    expect((await ingest(s, { samples: Array.from({ length: 501 }, (_, i) => makeSample(i)) })).status).toBe(400);
    const huge = await head.request("/api/v1/ingest", {
      method: "POST",
      headers: { authorization: `Bearer ${s}`, "content-type": "application/json", "content-length": String(MAX_MESSAGE_BYTES + 1) },
      crossSite: true,
    });
    expect(huge.status).toBe(413);
    await head.ctx.writer.flush();
    expect(await count()).toBe(before);
  });

  test("a sample sent twice is acknowledged twice and stored once", async () => {
    const sample = makeSample(100, { ts: new Date(Date.now() - 5000) });
    const first = await ingest(head.agent.secret, { samples: [sample] });
    const second = await ingest(head.agent.secret, { samples: [sample, sample] });
    expect((await first.json()).acked).toEqual([100]);
    expect((await second.json()).acked).toEqual([100, 100]);
    await head.ctx.writer.flush();
    const rows = await head.database.db
      .select()
      .from(hostSamples)
      .where(sql`${hostSamples.workerId} = ${head.agent.workerId} and ${hostSamples.seq} = 100`);
    expect(rows).toHaveLength(1);
  });

  test("over the WebSocket: acks after commit, and a revoked worker's socket is closed on its next message", async () => {
    const r = await enroll(head.database.db, (await addWorker(head.database.db, SYSTEM, "gpu-ws")).token, {});
    head.app.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const url = `ws://127.0.0.1:${head.app.server!.port}/api/v1/agent/ws`;
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${r.secret}` } } as unknown as string[]);
      const messages: unknown[] = [];
      const closed = new Promise<number>((resolve) => (ws.onclose = (e) => resolve(e.code)));
      ws.onmessage = (e) => messages.push(JSON.parse(String(e.data)));
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = reject;
      });
      ws.send(JSON.stringify({ type: "batch", samples: [makeSample(1, { ts: new Date(Date.now() - 4000) }), { seq: 2, broken: true }] }));
      for (let i = 0; i < 100 && messages.length < 2; i++) await Bun.sleep(20);
      expect(messages).toContainEqual({ type: "ack", seqs: [1] });
      expect(messages).toContainEqual(expect.objectContaining({ type: "reject", seqs: [2] }));
      ws.send("this is not json");
      for (let i = 0; i < 100 && messages.length < 3; i++) await Bun.sleep(20);
      expect(messages[2]).toMatchObject({ type: "reject", error: expect.stringContaining("malformed message") });
      await revokeWorker(head.database.db, SYSTEM, "gpu-ws");
      ws.send(JSON.stringify({ type: "batch", samples: [makeSample(3)] }));
      expect(await closed).toBe(4001);
      // A bad credential does not even get the upgrade.
      const refused = new WebSocket(url, { headers: { authorization: "Bearer vga_nope" } } as unknown as string[]);
      expect(await new Promise<number>((resolve) => (refused.onclose = (e) => resolve(e.code)))).not.toBe(1000);
    } finally {
      await head.app.stop(true);
    }
  });
});
