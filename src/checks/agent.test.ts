import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { checkContext } from "../../test/checks/harness.ts";
import { makeGpu, makeSample } from "../../test/fixtures/samples.ts";
import { startTestHead, type TestHead } from "../../test/harness/head.ts";
import { agent, ageInWords, gpuAbsences } from "./agent.ts";

let head: TestHead;
beforeAll(async () => {
  head = await startTestHead("postgres");
}, 60_000);
afterAll(() => head.close());

const worker = () => ({ id: head.agent.workerId, name: head.agent.name });
/** The check at a scripted moment: `ms` after now (the worker reports every second). */
const at = (ms: number) => checkContext({ head: head.ctx, workerId: head.agent.workerId, now: () => Date.now() + ms });
const GPU1 = "GPU-00000000-0000-0000-0000-000000000001";

describe("agent check on a real head, with a scripted clock", () => {
  test("down before the agent was ever heard from", async () => {
    const o = await agent.run({}, at(0));
    expect(o).toMatchObject({ status: "down", latencyMs: null, message: `agent on ${head.agent.name}: never heard from` });
    expect(o.details).toMatchObject({ heartbeat: "never-seen", lastSeenAt: null, connected: false });
  });

  test("healthy: heard within 3 intervals, all its GPUs reporting", async () => {
    await head.ctx.ingestor.ingest(worker(), makeSample(1, { gpus: 2 }));
    const o = await agent.run({}, at(1_000));
    expect(o.status).toBe("healthy");
    // Ages are rounded seconds: the sample's arrival was a moment before the scripted clock's base.
    expect(o.message).toMatch(/^heard [12] s ago \(every 1 s\); 2 GPUs reporting$/);
    expect(o.details).toMatchObject({ heartbeat: "online", gpus: { expected: 2, reporting: 2, missing: [], lost: [] } });
  });

  test("degraded when stale, down when offline (workerStatus' thresholds)", async () => {
    const stale = await agent.run({}, at(30_000));
    expect(stale.status).toBe("degraded");
    expect(stale.message).toMatch(
      new RegExp(`^agent on ${head.agent.name}: stale, last heard 3[01] s ago \\(expected every 1 s\\); 2 GPUs reporting$`),
    );
    const offline = await agent.run({}, at(5 * 60_000));
    expect(offline).toMatchObject({
      status: "down",
      message: `agent on ${head.agent.name}: offline, last heard 5 min ago (expected every 1 s); 2 GPUs reporting`,
    });
  });

  test("degraded: a GPU registered and seen within the day is missing from the newest sample", async () => {
    await head.ctx.ingestor.ingest(worker(), makeSample(2, { gpus: 1 }));
    const o = await agent.run({}, at(0));
    expect(o.status).toBe("degraded");
    expect(o.message).toMatch(new RegExp(`^1 GPU missing: GPU 1 \\(${GPU1}\\); heard [01] s ago \\(every 1 s\\)$`));
    expect((o.details.gpus as { missing: unknown[] }).missing).toEqual([{ index: 1, uuid: GPU1, name: "NVIDIA H100 80GB HBM3" }]);
  });

  test("degraded: a GPU reports lost (fell off the bus)", async () => {
    const sample = makeSample(3, { gpus: 2 });
    sample.gpus[1] = makeGpu(1, { lost: true });
    await head.ctx.ingestor.ingest(worker(), sample);
    const o = await agent.run({}, at(0));
    expect(o.status).toBe("degraded");
    expect(o.message).toStartWith(`1 GPU lost (fell off the bus): GPU 1 (${GPU1})`);
  });

  test("down: no such worker, or no worker given", async () => {
    expect((await agent.run({}, checkContext({ head: head.ctx, workerId: 999_999 }))).message).toBe(
      "worker 999999 does not exist (deleted?)",
    );
    expect((await agent.run({}, checkContext({ head: head.ctx }))).message).toBe(
      "agent: this check needs a worker; choose the worker it runs on",
    );
  });

  test("pure parts: absences and ages", () => {
    const a = { index: 0, uuid: "A", name: "H100" };
    const b = { index: 1, uuid: "B", name: "H100" };
    expect(gpuAbsences([a, b], [a])).toEqual({ missing: [b], lost: [] });
    expect(gpuAbsences([a], [{ ...a, lost: true }, b])).toEqual({ missing: [], lost: [a] });
    expect([0, 119_000, 300_000, 3 * 3600_000, 3 * 86_400_000].map(ageInWords)).toEqual(["0 s", "119 s", "5 min", "3 h", "3 d"]);
  });
});
