// Markup from agents is text in a real browser: a hostile host name, GPU name and process run nothing and show literally.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import type { Sample } from "../../src/protocol/sample.ts";
import { makeSample } from "../fixtures/samples.ts";
import { startBrowserFleet, type BrowserFleet } from "./harness.ts";

/** The two probes: an element with a handler, and a string that breaks out of an attribute into a script. */
const IMG = "<img src=x onerror=alert(1)>";
const SCRIPT = '"><script>alert(2)</script>';

let fleet: BrowserFleet;
let worker: { id: number; secret: string };
let seq = 0;

/** A sample of the probe worker in which every free-text field an agent controls carries a probe. */
function hostileSample(): Sample {
  const s = makeSample(seq++);
  s.ts = new Date().toISOString();
  s.host = { ...s.host, hostname: IMG, cpuModel: IMG, os: SCRIPT, kernel: IMG };
  s.host.disks = [{ mount: IMG, used: 1e9, total: 2e9, inodesUsed: 1, inodesTotal: 2 }];
  s.gpus = s.gpus.map((g) => ({
    ...g,
    name: IMG,
    throttleReasons: [IMG],
    processes: [
      { pid: 4242, name: SCRIPT, user: IMG, usedMemoryMiB: 30000, container: SCRIPT, type: "compute" },
      { pid: 4243, name: IMG, user: SCRIPT, usedMemoryMiB: 1000, container: IMG, type: "compute" },
    ],
  }));
  return s;
}

async function ingest(): Promise<void> {
  const r = await fleet.api("/api/v1/ingest", { json: { samples: [hostileSample()] }, token: worker.secret });
  if (r.status !== 200) throw new Error(`ingest: ${r.status} ${await r.text()}`);
}

beforeAll(async () => {
  // No simulated fleet: the probe worker alone, fed by hand through the API an agent script would use.
  fleet = await startBrowserFleet({ workers: 0 });
  // Worker names are host-name-like (src/fleet/names.ts), so the name itself cannot carry markup: the API says so.
  const refused = await fleet.api("/api/v1/workers", { json: { name: IMG } });
  expect(refused.status).toBeGreaterThanOrEqual(400);
  expect(refused.status).toBeLessThan(500);
  const ticket = (await (await fleet.api("/api/v1/workers", { json: { name: "xss-probe" } })).json()) as {
    workerId: number;
    enrollmentToken: string;
  };
  // The host name given at enrollment lands in the audit log, which admins read as a page.
  const enrolled = await fetch(`${fleet.url}/api/v1/agent/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: ticket.enrollmentToken, hostname: IMG, machineId: SCRIPT, version: "0.1.0" }),
  });
  const { secret } = (await enrolled.json()) as { secret: string };
  worker = { id: ticket.workerId, secret };
  await ingest();
}, 90_000);
afterAll(() => fleet?.stop());

/**
 * Opens the page, sends a fresh hostile sample while it is open (so live updates carry the probes too), and returns
 * what ran: dialogs, elements the probes would create, and the page's text.
 */
async function visit(path: string): Promise<{ dialogs: string[]; injected: number; text: string; status: number }> {
  const page: Page = await fleet.newPage();
  const dialogs: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  try {
    const response = await page.goto(path);
    await ingest();
    // Long enough for an SSE update (at most one a second per region) to be swapped in.
    await page.waitForTimeout(1_500);
    const injected = await page.evaluate(
      () =>
        document.querySelectorAll('img[src="x"], img[onerror]').length +
        Array.from(document.scripts).filter((s) => s.textContent?.includes("alert(")).length,
    );
    return { dialogs, injected, text: await page.locator("body").innerText(), status: response?.status() ?? 0 };
  } finally {
    await page.context().close();
  }
}

describe("hostile text from an agent, in Chromium", () => {
  test("the fleet page runs none of it", async () => {
    const r = await visit("/");
    expect(r.status).toBe(200);
    expect(r.dialogs).toEqual([]);
    expect(r.injected).toBe(0);
    expect(r.text).toContain("xss-probe");
  });

  test("the worker page runs none of it and shows it literally", async () => {
    const r = await visit(`/workers/${worker.id}`);
    expect(r.status).toBe(200);
    expect(r.dialogs).toEqual([]);
    expect(r.injected).toBe(0);
    expect(r.text).toContain(IMG);
    expect(r.text).toContain(SCRIPT);
  });

  test("the audit log shows the enrollment's host name literally", async () => {
    const r = await visit("/admin/audit");
    expect(r.status).toBe(200);
    expect(r.dialogs).toEqual([]);
    expect(r.injected).toBe(0);
    expect(r.text).toContain(IMG);
  });
});
