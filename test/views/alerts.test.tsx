// The alerts page against a real head: firing, pending and no data from the engine, escaping, admins' buttons, acknowledge, silences, detail, the live view.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { saveThreshold } from "../../src/alerts/store.ts";
import { SYSTEM } from "../../src/auth/audit.ts";
import { alertEvents, auditLog, silences } from "../../src/db/schema/index.ts";
import { upsertWorker } from "../../src/fleet/workers.ts";
import type { Sample } from "../../src/protocol/sample.ts";
import { alertsViewName, parseAlertsView } from "../../views/partials/alerts/model.ts";
import { makeGpu, makeSample } from "../fixtures/samples.ts";
import { startTestHead, type TestHead } from "../harness/head.ts";
import { partialsOf, SseReader } from "../live/sse-reader.ts";

const EVIL = "<img src=x onerror=alert(1)>";

/** The HTML of the element whose id is `id`, from its opening tag up to the end of its section (or of the page). */
function region(html: string, id: string): string {
  const at = html.indexOf(`id="${id}"`);
  expect(at).toBeGreaterThan(-1);
  const end = html.indexOf("</section>", at);
  return html.slice(html.lastIndexOf("<", at), end < 0 ? undefined : end);
}

/** Durations ("0m 3s", "1h 2m") vary with the second a render happens in. */
const timeless = (html: string) => html.replace(/\d+[dhm] \d+[hms]/g, "…");

/** Outside double-quoted attributes (where quotes are escaped and "<" is inert), nothing from data may open a tag. */
const outsideAttributes = (html: string) => html.replace(/="[^"]*"/g, '=""');

describe("alerts page", () => {
  let head: TestHead;
  let agentId: number;
  let evilId: number;
  let seq = 0;

  const page = async (path: string, as: "viewer" | "admin" = "viewer") => {
    const res = await head.request(path, { as });
    return { status: res.status, html: await res.text() };
  };
  const send = async (id: number, name: string, sample: Sample) => {
    await head.ctx.ingestor.ingest({ id, name }, sample);
    await head.ctx.alerts.idle();
  };
  const sampleOf = (gpus: Parameters<typeof makeGpu>[1][]): Sample => {
    const s = makeSample(++seq, { ts: new Date(Date.now() - 100) });
    s.gpus = gpus.map((over, i) => makeGpu(i, over));
    return s;
  };
  const openId = (workerId: number, rule: string, gpuIndex: number | null) =>
    head.ctx.alerts.list().find((a) => a.workerId === workerId && a.rule === rule && a.gpuIndex === gpuIndex)!.id!;

  beforeAll(async () => {
    head = await startTestHead("postgres");
    const db = head.database.db;
    agentId = head.agent.workerId;
    evilId = await upsertWorker(db, { name: EVIL, kind: "remote", hostname: "evil", intervalSeconds: 1 });
    // Critical above 85 °C at once; host CPU above 10 % only after an hour (so it stays pending).
    await saveThreshold(db, SYSTEM, { metric: "temperature", critical: 85, forSeconds: 0 });
    await saveThreshold(db, SYSTEM, { metric: "host.cpuPercent", workerId: agentId, warning: 10, forSeconds: 3600 });
    await head.ctx.alerts.reload();
    // The agent's GPU 0 runs hot: firing. Its CPU (12.5 %) is past the warning: pending.
    await send(agentId, head.agent.name, sampleOf([{ temperature: 91 }, {}]));
    // The evil worker's GPU 1 runs hot, then vanishes: its temperature alert has no data, and "GPU lost" fires.
    await send(evilId, EVIL, sampleOf([{}, { temperature: 95, name: '"><script>alert(2)</script>' }]));
    await send(evilId, EVIL, sampleOf([{}]));
  }, 60_000);
  afterAll(() => head.close());

  test("the view name round-trips, and names nothing else", () => {
    for (const [admin, f] of [
      [false, { workerId: null, rule: null }],
      [true, { workerId: null, rule: null }],
      [true, { workerId: 7, rule: "threshold:gpu.temperature" }],
      [false, { workerId: null, rule: "builtin:gpu_lost" }],
    ] as const) {
      const name = alertsViewName(admin, f);
      const param = name === "alerts" ? undefined : name.slice("alerts:".length);
      expect(parseAlertsView(param)).toEqual({ admin, filter: f });
    }
    for (const bad of ["root", "admin:w0", "viewer:x", "admin:threshold:<b>", "admin:w7:rule"])
      expect(parseAlertsView(bad)).toBeUndefined();
  });

  test("sections: firing with value, threshold and notification, pending with when it fires, no data never shown as resolved", async () => {
    const { status, html } = await page("/alerts");
    expect(status).toBe(200);
    const firing = region(html, "alerts-firing");
    const hot = openId(agentId, "threshold:temperature", 0);
    expect(firing).toContain(`id="alert-${hot}"`);
    expect(firing).toContain("GPU temperature");
    expect(firing).toContain("91 °C");
    expect(firing).toContain("85 °C");
    expect(firing).toContain("GPU 0 · NVIDIA H100 80GB HBM3");
    expect(firing).toContain(`href="/workers/${agentId}"`);
    // No channel exists: told (to nobody) as soon as it fired.
    expect(firing).toMatch(/told \d+m \d+s ago/);
    expect(firing).toContain("GPU lost");
    expect(firing).toContain('class="severity severity-critical"');

    const pending = region(html, "alerts-pending");
    expect(pending).toContain("host CPU busy");
    expect(pending).toContain("12.5 %");
    expect(pending).toMatch(/in (59m \d+s|1h 0m) if it holds/);

    const nodata = region(html, "alerts-nodata");
    const gone = openId(evilId, "threshold:temperature", 1);
    expect(nodata).toContain(`id="alert-${gone}"`);
    expect(nodata).toContain("no data since");
    expect(nodata).toContain("the GPU no longer reports it");
    // The rows themselves (the help above them explains that these are not resolved).
    expect(nodata.slice(nodata.indexOf("<tbody>"))).not.toContain("resolved");

    expect(html).toContain('id="alerts-silences"');
    expect(html).toContain("No silence or maintenance window is in force or planned.");
    // History: every alert, open ones anchored above and not twice.
    const history = region(html, "history");
    expect(history).toContain(`id="history-alert-${hot}"`);
    expect(html.match(new RegExp(`id="alert-${hot}"`, "g"))).toHaveLength(1);
    // The page streams its regions.
    expect(html).toContain('hx-sse:connect="/events?view=alerts"');
    expect(html).toContain("/static/alerts.css?v=");
  });

  test("worker, GPU and rule names are escaped everywhere", async () => {
    const { html } = await page("/alerts", "admin");
    expect(outsideAttributes(html)).not.toContain("<img");
    expect(outsideAttributes(html)).not.toContain("<script>alert(2)");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain("&lt;script&gt;alert(2)&lt;/script&gt;");
    const filtered = await page(`/alerts?worker=${encodeURIComponent("<b>nobody</b>")}&rule=${encodeURIComponent("<i>x</i>")}`);
    expect(outsideAttributes(filtered.html)).not.toContain("<b>nobody");
    expect(outsideAttributes(filtered.html)).not.toContain("<i>x");
    expect(filtered.html).toContain("&lt;b&gt;nobody&lt;/b&gt;");
  });

  test("viewers see no action buttons and forms, and the server refuses the actions anyway", async () => {
    const { html } = await page("/alerts");
    expect(html).not.toContain("Acknowledge</button>");
    expect(html).not.toContain('/ack"');
    expect(html).not.toContain('action="/alerts/silences"');
    expect(html).not.toContain("cancel-silence");
    const id = openId(agentId, "threshold:temperature", 0);
    expect((await head.request(`/alerts/${id}/ack`, { as: "viewer", form: {} })).status).toBe(403);
    const silence = await head.request("/alerts/silences", { as: "viewer", form: { kind: "silence", duration: "1h" } });
    expect(silence.status).toBe(403);
    expect(await head.database.db.select().from(silences)).toEqual([]);
    const admin = await page("/alerts", "admin");
    expect(region(admin.html, "alerts-firing")).toContain(`action="/alerts/${id}/ack"`);
    expect(admin.html).toContain('action="/alerts/silences"');
    expect(admin.html).toContain('hx-sse:connect="/events?view=alerts%3Aadmin"');
  });

  test("an admin acknowledges through the form: 303 back, an acknowledged event with the actor, shown on the page", async () => {
    const id = openId(agentId, "threshold:temperature", 0);
    const res = await head.request(`/alerts/${id}/ack`, { as: "admin", form: {} });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/alerts#alert-${id}`);
    const events = await head.database.db.select().from(alertEvents).where(eq(alertEvents.alertId, id));
    expect(events.filter((e) => e.kind === "acknowledged").map((e) => e.actor)).toEqual(["user:root-admin"]);
    const audit = await head.database.db.select().from(auditLog).where(eq(auditLog.action, "alert.ack"));
    expect(audit.map((a) => [a.actor, a.target])).toEqual([["user:root-admin", `alert:${id}`]]);
    const row = region((await page("/alerts", "admin")).html, `alert-${id}`);
    expect(row.slice(0, row.indexOf("</tr>"))).toContain("acknowledged by user:root-admin");
    expect(row.slice(0, row.indexOf("</tr>"))).not.toContain("Acknowledge</button>");
    // Through htmx: no page, the live region shows it. A closed or unknown alert is refused with the reason.
    const again = await head.request(`/alerts/${id}/ack`, { as: "admin", form: {}, headers: { "hx-request": "true" } });
    expect(again.status).toBe(204);
    const unknown = await head.request("/alerts/999999/ack", { as: "admin", form: {}, headers: { "hx-request": "true" } });
    expect(unknown.status).toBe(409);
    expect(unknown.headers.get("hx-retarget")).toBe("main");
    expect(await unknown.text()).toContain("Not acknowledged: alert #999999 is not open");
  });

  test("the silence form: a mistake re-renders it with the message and what was typed; a good one lists the silence and quiets the alert", async () => {
    const bad = await head.request("/alerts/silences", {
      as: "admin",
      form: { kind: "silence", workerId: String(evilId), duration: "until", until: "", reason: "<b>reboot</b>" },
    });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain("Not silenced: Until: give the date and time the silence ends");
    expect(badHtml).toMatch(/<details class="silence-dialog" id="silence-form" open/);
    expect(badHtml).toContain("&lt;b&gt;reboot&lt;/b&gt;</textarea>");
    const window = await head.request("/alerts/silences", {
      as: "admin",
      form: { kind: "maintenance", workerId: "", endsAt: "2020-01-01T00:00" },
    });
    expect(window.status).toBe(400);
    expect(await window.text()).toContain("Not planned: Worker: a maintenance window is for one worker; choose it");
    const gpu = await head.request("/alerts/silences", { as: "admin", form: { kind: "silence", gpu: "3", duration: "1h" } });
    expect(await gpu.text()).toContain("Not silenced: GPU: choose the worker it belongs to as well");

    const good = await head.request("/alerts/silences", {
      as: "admin",
      form: { kind: "silence", workerId: String(evilId), rule: "builtin:gpu_lost", gpu: "1", duration: "4h", reason: "<b>reseating</b>" },
    });
    expect(good.status).toBe(303);
    const [row] = await head.database.db.select().from(silences);
    expect(row).toMatchObject({
      kind: "silence",
      workerId: evilId,
      rule: "builtin:gpu_lost",
      gpuUuid: makeGpu(1).uuid,
      createdBy: "user:root-admin",
    });
    expect(row!.endsAt.getTime() - row!.startsAt.getTime()).toBe(4 * 3600_000);
    const { html } = await page(`/alerts?saved=${row!.id}`);
    expect(html).toContain(`Saved #${row!.id}`);
    const list = region(html, "alerts-silences");
    expect(list).toContain(`id="silence-${row!.id}"`);
    expect(list).toContain("&lt;b&gt;reseating&lt;/b&gt;");
    expect(list).toContain("GPU lost");
    expect(list).toContain("user:root-admin");
    // The engine re-read silences: channels must stay quiet about the lost GPU now.
    const lost = region(html, `alert-${openId(evilId, "builtin:gpu_lost", 1)}`);
    expect(lost.slice(0, lost.indexOf("</tr>"))).toContain("quiet now: silenced");

    expect((await head.request(`/alerts/silences/${row!.id}/cancel`, { as: "viewer", form: {} })).status).toBe(403);
    const cancel = await head.request(`/alerts/silences/${row!.id}/cancel`, { as: "admin", form: {} });
    expect(cancel.status).toBe(303);
    expect(region((await page("/alerts")).html, "alerts-silences")).not.toContain(`id="silence-${row!.id}"`);
    const twice = await head.request(`/alerts/silences/${row!.id}/cancel`, { as: "admin", form: {} });
    expect(twice.status).toBe(400);
    expect(await twice.text()).toContain(`Not cancelled: no active silence with id ${row!.id}.`);
  });

  test("?worker= narrows the open alerts and the history to one worker", async () => {
    const { html } = await page(`/alerts?worker=${evilId}`);
    expect(region(html, "alerts-firing")).toContain("GPU lost");
    expect(region(html, "alerts-firing")).not.toContain("GPU temperature");
    expect(region(html, "alerts-pending")).not.toContain("host CPU busy");
    expect(html).toContain(`hx-sse:connect="/events?view=${encodeURIComponent(`alerts:viewer:w${evilId}`)}"`);
    expect(region(html, "history")).not.toContain(`href="/workers/${agentId}"`);
    const hist = await page(`/alerts?state=resolved`);
    expect(region(hist.html, "history")).toContain("No alert matches.");
  });

  test("the detail page lists events (told, acknowledged by whom) and deliveries; an unknown id is a 404", async () => {
    const id = openId(agentId, "threshold:temperature", 0);
    const { status, html } = await page(`/alerts/${id}`);
    expect(status).toBe(200);
    const events = region(html, "alert-events");
    expect(events).toContain("firing");
    expect(events).toContain("acknowledged");
    expect(events).toContain("user:root-admin");
    expect(region(html, "alert-deliveries")).toContain("Nothing was sent");
    // From its own page (no live stream there) an admin acknowledges and comes back to it.
    const lost = openId(evilId, "builtin:gpu_lost", 1);
    expect((await page(`/alerts/${lost}`, "admin")).html).toContain('<input type="hidden" name="back" value="detail"/>');
    const res = await head.request(`/alerts/${lost}/ack`, { as: "admin", form: { back: "detail" } });
    expect(res.headers.get("location")).toBe(`/alerts/${lost}`);
    expect((await page(`/alerts/${lost}`)).html).toContain("by user:root-admin at ");
    expect((await page("/alerts/999999")).status).toBe(404);
    expect((await page("/alerts/abc")).status).toBe(404);
  });

  test("the fleet card shows the worker's firing alerts with the worst severity, linking to them", async () => {
    const { html } = await page("/");
    expect(html).toMatch(new RegExp(`<a href="/alerts\\?worker=${evilId}" class="badge alert-count status-offline"[^>]*>1 critical</a>`));
    expect(html).toMatch(new RegExp(`<a href="/alerts\\?worker=${agentId}" class="badge alert-count status-offline"[^>]*>1 critical</a>`));
  });

  test("the live view sends the regions, then a new firing alert without a reload", async () => {
    const res = await head.request("/events?view=alerts", { as: "viewer" });
    expect(res.status).toBe(200);
    const reader = new SseReader(res.body!);
    try {
      const first = await reader.next(10_000);
      const regions = partialsOf(first?.data ?? "");
      for (const id of ["alerts-firing", "alerts-pending", "alerts-nodata", "alerts-silences"]) expect(regions.has(id)).toBe(true);
      // The same component as the page: the firing section as the page shows it to a viewer.
      expect(timeless(regions.get("alerts-firing")!)).toBe(timeless(`${region((await page("/alerts")).html, "alerts-firing")}</section>`));
      expect(first?.data).not.toContain("Acknowledge</button>");
      // The agent's GPU 1 heats up too: a second temperature alert, pushed by the hub's next tick.
      await send(agentId, head.agent.name, sampleOf([{ temperature: 91 }, { temperature: 99 }]));
      const hot = openId(agentId, "threshold:temperature", 1);
      let seen = "";
      for (let i = 0; i < 20 && !seen.includes(`id="alert-${hot}"`); i++) seen += (await reader.next(2_000))?.data ?? "";
      expect(seen).toContain(`id="alert-${hot}"`);
      expect(seen).toContain("99 °C");
    } finally {
      await reader.cancel();
    }
  }, 30_000);
});
