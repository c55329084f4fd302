// The worker page against a real head: vitals side by side, N/A and critical marks, GPU selection, history, restarts (form and progress), escaping.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { restarts, workers } from "../../src/db/schema/index.ts";
import { listRestarts, recordRestartStatus } from "../../src/fleet/restarts.ts";
import { upsertWorker } from "../../src/fleet/workers.ts";
import type { AgentConnection } from "../../src/ingest/sessions.ts";
import type { HeadMessage } from "../../src/protocol/messages.ts";
import type { Sample } from "../../src/protocol/sample.ts";
import { restartProgress } from "../../views/partials/worker/restarts.tsx";
import { makeGpu, makeSample } from "../fixtures/samples.ts";
import { describeEachEngine } from "../harness/engines.ts";
import { startTestHead, type TestHead } from "../harness/head.ts";

const EVIL_WORKER = "<img src=x onerror=alert(1)>";
const EVIL_PROCESS = '"><script>';

/** GPU 0 runs hot and nearly full with four processes; GPU 1 reports nothing it could (all nullable vitals null). */
function sampleOf(seq: number): Sample {
  const s = makeSample(seq, { gpus: 2 });
  s.gpus[0] = makeGpu(0, {
    temperature: 90,
    memoryUsed: 80000,
    memoryTotal: 81559,
    memoryFree: 1559,
    fanSpeed: null,
    utilization: 50 + (seq % 10),
    processes: [
      { pid: 11, name: "small-job", user: "bob", usedMemoryMiB: 100, container: null },
      { pid: 12, name: "big-job", user: "alice", usedMemoryMiB: 70000, container: "trainer-1" },
      { pid: 13, name: "hidden-job", user: null, usedMemoryMiB: null, container: null },
      { pid: 14, name: "mid-job", user: "carol", usedMemoryMiB: 9000, container: null },
    ],
  });
  s.gpus[1] = makeGpu(1, {
    utilization: null,
    memoryUtilization: null,
    memoryUsed: null,
    temperature: null,
    powerUsage: null,
    powerLimit: null,
    smClock: null,
    pstate: null,
    eccUncorrected: 2,
    throttleReasons: ["HwSlowdown"],
    processes: [],
  });
  return s;
}

/** An agent connection that records what the head sends it, as if the worker's agent held its WebSocket. */
function fakeAgent(workerId: number, name: string): AgentConnection & { sent: HeadMessage[] } {
  const sent: HeadMessage[] = [];
  return { workerId, name, version: "test", connectedAt: new Date(), sent, send: (m) => void sent.push(m), close: () => {} };
}

const between = (html: string, id: string): string => {
  const start = html.indexOf(`id="${id}"`);
  expect(start).toBeGreaterThan(-1);
  const end = html.indexOf("</section>", start);
  return html.slice(start, end);
};

describeEachEngine("worker page", (engine) => {
  let head: TestHead;
  let id: number;
  let name: string;
  const page = async (path: string, as: "viewer" | "admin" = "viewer") => {
    const res = await head.request(path, { as });
    return { status: res.status, html: await res.text() };
  };

  beforeAll(async () => {
    head = await startTestHead(engine);
    id = head.agent.workerId;
    name = head.agent.name;
    for (let seq = 1; seq <= 20; seq++) await head.ctx.ingestor.ingest({ id, name }, sampleOf(seq));
  }, 60_000);
  afterAll(() => head.close());

  test("a viewer gets the page by id or by name, with every region and no inline script or style", async () => {
    for (const key of [String(id), name]) {
      const { status, html } = await page(`/workers/${key}`);
      expect(status).toBe(200);
      for (const region of ["worker-status", "worker-vitals", "worker-processes", "worker-hardware", "worker-storage", "restart-status"])
        expect(html).toContain(`id="${region}"`);
      expect(html).toContain(`<h1>${name}</h1>`);
      expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/i);
      expect(html).not.toMatch(/\sstyle="/i);
      expect(html).not.toMatch(/\son[a-z]+="/i);
      expect(html).toMatch(/<script src="\/static\/charts\.js\?v=[0-9a-f]{12}" defer>/);
      expect(html).toMatch(/<link rel="stylesheet" href="\/static\/worker\.css\?v=[0-9a-f]{12}"/);
    }
  });

  test("the assets the page links are served", async () => {
    for (const asset of ["charts.js", "worker.css", "uPlot.min.js", "uPlot.min.css"]) {
      expect((await head.request(`/static/${asset}`)).status).toBe(200);
    }
  });

  test("an unknown worker is a 404 page that names what was asked, escaped", async () => {
    for (const key of ["999999", "no-such-worker", "%3Cscript%3E"]) {
      const { status, html } = await page(`/workers/${key}`);
      expect(status).toBe(404);
      expect(html).toContain("Worker not found");
      expect(html).not.toContain("<script>");
    }
    expect((await page("/workers/%3Cscript%3E")).html).toContain("&lt;script&gt;");
  });

  test("host and GPU line up row by row: CPU ↔ utilization, memory ↔ VRAM, swap ↔ temperature, disk ↔ power, I/O ↔ device", async () => {
    const vitals = between((await page(`/workers/${id}`)).html, "worker-vitals");
    const rows = [...vitals.matchAll(/data-row="([^"]+)"/g)].map((m) => m[1]);
    expect(rows).toEqual([
      "CPU",
      "Utilization",
      "Memory",
      "VRAM",
      "Swap",
      "Temperature",
      "Disk",
      "Power",
      "Disk and network I/O",
      "Device",
    ]);
    expect(vitals).toContain("Swap: none configured");
    expect(vitals).toContain("load 0.50 0.40 0.30 · 2 CPUs · CPU 52 °C");
  });

  test("a vital the GPU does not report reads N/A, never 0", async () => {
    const vitals = between((await page(`/workers/${id}?gpu=1`)).html, "worker-vitals");
    for (const label of ["Utilization", "Temperature", "Power", "VRAM"]) expect(vitals).toContain(`aria-label="${label}: N/A"`);
    expect(vitals).not.toContain("0 °C");
    expect(vitals).toContain("P-state</dt><dd>N/A");
    // GPU 0's fan is null too.
    expect(between((await page(`/workers/${id}?gpu=0`)).html, "worker-vitals")).toContain("fan N/A");
  });

  test("a hot, nearly full GPU is marked critical", async () => {
    const vitals = between((await page(`/workers/${id}?gpu=0`)).html, "worker-vitals");
    expect(vitals).toMatch(/class="gauge level-critical"[^>]*aria-label="Temperature: 90 °C \(critical\)"/);
    expect(vitals).toMatch(/class="gauge level-critical"[^>]*aria-label="VRAM: [^"]*\(critical\)"/);
    // ECC errors and throttling stand out in the hardware panel.
    const hw = between((await page(`/workers/${id}?gpu=1`)).html, "worker-hardware");
    expect(hw).toMatch(/class="level-critical">0 \/ 2</);
    expect(hw).toMatch(/class="level-warning">HwSlowdown</);
  });

  test("the process table is sorted by VRAM, biggest first, unknown memory last", async () => {
    const procs = between((await page(`/workers/${id}`)).html, "worker-processes");
    const order = ["big-job", "mid-job", "small-job", "hidden-job"].map((p) => procs.indexOf(p));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(procs).toContain("trainer-1");
    expect(procs).toContain("68.4 GiB");
  });

  test("the GPU selector is plain links, and ?gpu=all compares every GPU side by side", async () => {
    const one = (await page(`/workers/${id}?gpu=1`)).html;
    expect(one).toContain(`href="/workers/${id}?gpu=0"`);
    expect(one).toMatch(new RegExp(`href="/workers/${id}\\?gpu=1"[^>]*aria-current="page"`));
    expect(one).toContain(`href="/workers/${id}?gpu=all"`);

    const all = (await page(`/workers/${id}?gpu=all`)).html;
    const vitals = between(all, "worker-vitals");
    expect(vitals).toContain('class="compare"');
    expect(vitals).toContain(">GPU 0</a>");
    expect(vitals).toContain(">GPU 1</a>");
    expect(vitals).toContain('aria-label="GPU 0 temperature: 90 °C (critical)"');
    expect(vitals).toContain('aria-label="GPU 1 temperature: N/A"');
    // Processes of every GPU, with a GPU column; hardware with a column per GPU.
    expect(between(all, "worker-processes")).toContain('<th scope="col">GPU</th>');
    expect((between(all, "worker-hardware").match(/<th scope="col">GPU \d<\/th>/g) ?? []).length).toBe(2);

    const missing = (await page(`/workers/${id}?gpu=7`)).html;
    expect(missing).toContain("This worker has no GPU &quot;7&quot;; showing GPU 0.");
  });

  test("history: four charts fed by the JSON API with thresholds, range links, a custom range form, CSV and a summary", async () => {
    const html = (await page(`/workers/${id}?gpu=0&range=24h`)).html;
    const figures = [...html.matchAll(/<figure class="chart"[^>]*>/g)].map((m) => m[0]);
    expect(figures).toHaveLength(4);
    expect(figures.map((f) => /data-metric="(\w+)"/.exec(f)![1])).toEqual(["utilization", "memoryPercent", "temperature", "power"]);
    const temp = figures[2]!;
    expect(temp).toContain(`data-worker="${id}"`);
    expect(temp).toContain('data-gpu="0"');
    expect(temp).toContain('data-since="-24h"');
    expect(temp).toContain('data-warning="70"'); // the seeded global temperature rule (70 / 85 °C)
    expect(temp).toContain('data-critical="85"');
    expect(figures[3]).toContain('data-threshold-of="powerLimit"');
    expect(html).toMatch(new RegExp(`href="/workers/${id}\\?gpu=0&(amp;)?range=24h#history"[^>]*aria-current="true"`));
    for (const r of ["1h", "6h", "7d", "30d"]) expect(html).toContain(`range=${r}#history`);
    expect(html).toContain('type="datetime-local" name="since"');
    expect(html).toMatch(/aria-describedby="chart-temperature-desc"/);
    expect(html).toMatch(
      /id="chart-temperature-desc"[^>]*>Temperature over the last 24 hours: min 90\.0 °C, average 90\.0 °C, max 90\.0 °C/,
    );

    // The CSV link is the history API itself, and answers for the viewer's session.
    const csvHref = /class="chart-csv" href="([^"]+)"/.exec(html)![1]!.replaceAll("&amp;", "&");
    expect(csvHref).toStartWith(`/api/v1/workers/${id}/metrics?`);
    expect(csvHref).toContain("format=csv");
    const csv = await head.request(csvHref, { as: "viewer" });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    expect(await csv.text()).toContain(",gpu0,");
    // So does the JSON the charts fetch: the same parameters without format.
    const json = await (await head.request(csvHref.replace("&format=csv", ""), { as: "viewer" })).json();
    expect(json.gpus[0].metrics.utilization.avg.length).toBeGreaterThan(0);
    expect(json.host).toBeNull();

    // The summary table is what a browser without JavaScript sees.
    expect(html).toContain("Summary over the last 24 hours");
    expect(html).toMatch(/<td>Temperature<\/td><td class="num">90\.0 °C<\/td>/);
  });

  test("a custom range is used when it parses, and said to be unusable when not", async () => {
    const since = new Date(Date.now() - 2 * 3600_000).toISOString().slice(0, 16);
    const ok = (await page(`/workers/${id}?gpu=0&since=${since}`)).html;
    expect(ok).toContain(`data-since="${since}"`);
    expect(ok).toContain(`value="${since}"`);
    const bad = (await page(`/workers/${id}?gpu=0&since=yesterday`)).html;
    expect(bad).toContain("Custom range not used");
    expect(bad).toContain('data-since="-6h"');
  });

  test("the restart form is for admins only; an empty allow-list says how to allow units", async () => {
    await head.database.db
      .update(workers)
      .set({ info: sql`${workers.info} - 'restartAllow'` })
      .where(eq(workers.id, id));
    expect((await page(`/workers/${id}`)).html).not.toContain(`action="/workers/${id}/restart"`);
    const none = (await page(`/workers/${id}`, "admin")).html;
    expect(none).toContain("allows no restarts");
    expect(none).toContain("VIGIL_RESTART_ALLOW");

    await head.database.db
      .update(workers)
      .set({ info: sql`${workers.info} || ${JSON.stringify({ restartAllow: ["vllm.service", "comfyui.service"] })}::jsonb` })
      .where(eq(workers.id, id));
    const viewer = (await page(`/workers/${id}`)).html;
    expect(viewer).not.toContain(`action="/workers/${id}/restart"`);
    expect(viewer).toContain('id="restart-status"');
    const admin = (await page(`/workers/${id}`, "admin")).html;
    expect(admin).toContain(`action="/workers/${id}/restart"`);
    expect(admin).toContain('<option value="vllm.service">vllm.service</option>');
    expect(admin).toContain('name="force"');
    expect(admin).toContain("Forcing kills the service's running GPU jobs");
    expect(admin).toContain("not connected to this head");
  });

  test("the no-script restart form: refused while the agent is away, sent and recorded when it is connected", async () => {
    const before = (await listRestarts(head.database.db, id)).length;
    const away = await head.request(`/workers/${id}/restart`, { as: "admin", form: { service: "vllm.service", reason: "stuck" } });
    expect(away.status).toBe(409);
    const awayHtml = await away.text();
    expect(awayHtml).toContain(`Not restarted: worker ${name} is not connected to this head`);
    expect(awayHtml).toContain("stuck</textarea>"); // what was typed is kept
    expect((await listRestarts(head.database.db, id)).length).toBe(before);

    const agent = fakeAgent(id, name);
    head.ctx.sessions.add(agent);
    try {
      expect((await head.request(`/workers/${id}/restart`, { as: "viewer", form: { service: "vllm.service" } })).status).toBe(403);
      const crossSite = await head.request(`/workers/${id}/restart`, {
        as: "admin",
        form: { service: "vllm.service" },
        headers: { origin: "http://evil.example" },
      });
      expect(crossSite.status).toBe(403);
      const bad = await head.request(`/workers/${id}/restart`, { as: "admin", form: { service: "rm -rf /" } });
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain("Not restarted: service:");
      expect(agent.sent).toHaveLength(0);

      const res = await head.request(`/workers/${id}/restart`, {
        as: "admin",
        form: { service: "vllm.service", reason: "stuck after OOM", force: "on" },
      });
      expect(res.status).toBe(303);
      const [row] = await listRestarts(head.database.db, id, 1);
      expect(row).toMatchObject({
        service: "vllm.service",
        reason: "stuck after OOM",
        force: true,
        state: "initiated",
        requestedBy: "user:root-admin",
      });
      expect(res.headers.get("location")).toBe(`/workers/${id}?restarted=${row!.id}#restart-status`);
      expect(agent.sent).toEqual([{ type: "restart", id: row!.id, service: "vllm.service", force: true, waitSeconds: 600 }]);

      const after = await page(res.headers.get("location")!, "admin");
      expect(after.html).toContain(`Restart #${row!.id} sent`);
      const status = between(after.html, "restart-status");
      expect(status).toContain(`data-restart="${row!.id}"`);
      expect(status).toContain("forced");
      expect(status).toMatch(/class="step step-current" aria-current="step"><span class="step-name">initiated/);

      // The agent's reports move it along; the region shows each step with what became of it.
      const at = new Date().toISOString();
      await recordRestartStatus(head.database.db, id, { type: "restart-status", id: row!.id, state: "stopping", at });
      await recordRestartStatus(head.database.db, id, { type: "restart-status", id: row!.id, state: "restarting", at });
      await recordRestartStatus(head.database.db, id, { type: "restart-status", id: row!.id, state: "completed", at });
      const done = between((await page(`/workers/${id}`)).html, "restart-status");
      expect(done).toContain('class="restart-state level-ok">completed');
      expect(done).toMatch(/step-skipped"><span class="step-name">waiting/);
      expect(done).not.toContain('aria-busy="true"');
    } finally {
      head.ctx.sessions.remove(agent);
    }
  });

  test("a worker without GPUs says why; one never heard from says so", async () => {
    const cpuId = await upsertWorker(head.database.db, { name: "cpu-only", kind: "remote" });
    const s = makeSample(1, { gpus: 0, hostname: "cpu-only" });
    s.gpuSource = "none";
    s.gpuError = "NVML not found (libnvidia-ml.so.1: cannot open shared object file)";
    await head.ctx.ingestor.ingest({ id: cpuId, name: "cpu-only" }, s);
    const html = (await page("/workers/cpu-only")).html;
    expect(html).toContain("No GPU data: NVML not found (libnvidia-ml.so.1: cannot open shared object file)");
    expect(html).not.toContain("?gpu=all");
    expect(html).toContain("This worker has no GPU history.");

    await upsertWorker(head.database.db, { name: "never-seen", kind: "remote" });
    const never = (await page("/workers/never-seen")).html;
    expect(never).toContain("No sample has arrived from this worker yet");
    expect(never).toContain("No sample from this worker yet.");
  });

  test("names, processes, services and restart texts from agents render as text, never as markup", async () => {
    const evilId = await upsertWorker(head.database.db, {
      name: EVIL_WORKER,
      kind: "remote",
      hostname: "<svg onload=alert(2)>",
      info: { cpuModel: "<b>cpu</b>", restartAllow: [`${EVIL_PROCESS}.service`] },
    });
    const s = makeSample(1, { gpus: 1, hostname: "<svg onload=alert(2)>" });
    s.gpus[0] = makeGpu(0, {
      name: "<marquee>gpu</marquee>",
      processes: [{ pid: 1, name: EVIL_PROCESS, user: "<u>mallory</u>", usedMemoryMiB: 10, container: "<iframe>" }],
    });
    s.host.disks = [{ mount: "/mnt/<script>", used: 1, total: 2, inodesUsed: null, inodesTotal: null }];
    s.gpuNotice = "<script>notice</script>";
    await head.ctx.ingestor.ingest({ id: evilId, name: EVIL_WORKER }, s);
    await head.database.db.insert(restarts).values({
      workerId: evilId,
      service: "<script>svc</script>",
      reason: "<script>reason</script>",
      requestedBy: "user:<script>",
      state: "failed",
      message: "<script>message</script>",
      events: [{ state: "initiated", at: new Date().toISOString(), message: "<script>event</script>" }],
    });
    for (const path of [`/workers/${evilId}`, `/workers/${evilId}?gpu=all`, `/workers/${encodeURIComponent(EVIL_WORKER)}`]) {
      const { status, html } = await page(path, "admin");
      expect(status).toBe(200);
      expect(html).not.toContain(EVIL_WORKER);
      expect(html).not.toContain(EVIL_PROCESS);
      // Inside a quoted attribute value "<" is only text (and quotes are escaped): look for tags outside them.
      const outside = html.replace(/="[^"]*"/g, '=""');
      expect(/<(svg|marquee|iframe|u|b|img)[\s>]|<script(?!\s+src="")/i.exec(outside)?.[0]).toBeUndefined();
      expect(html).not.toContain('"><script');
      expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
      expect(html).toContain("&quot;&gt;&lt;script&gt;");
      expect(html).toContain("&lt;script&gt;message&lt;/script&gt;");
    }
  });
});

describe("restart progress", () => {
  const at = "2026-11-23T10:05:00.000Z";
  const ev = (...states: string[]) => states.map((state) => ({ state, at }));

  test("a forced restart that completed passed over waiting", () => {
    const steps = restartProgress({ state: "completed", events: ev("initiated", "stopping", "restarting", "completed") });
    expect(steps.map((s) => `${s.step}:${s.state}`)).toEqual([
      "initiated:done",
      "waiting:skipped",
      "stopping:done",
      "restarting:done",
      "completed:done",
    ]);
  });

  test("a refused restart ends in refused, the steps after initiated never reached", () => {
    const steps = restartProgress({ state: "refused", events: ev("initiated", "refused") });
    expect(steps.map((s) => `${s.step}:${s.state}`)).toEqual([
      "initiated:done",
      "waiting:todo",
      "stopping:todo",
      "restarting:todo",
      "refused:done",
    ]);
  });

  test("one in progress marks where it is", () => {
    const steps = restartProgress({ state: "waiting", events: ev("initiated", "waiting") });
    expect(steps.map((s) => s.state)).toEqual(["done", "current", "todo", "todo", "todo"]);
  });
});
