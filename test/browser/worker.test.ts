// The worker page in Chromium: history charts drawn with points, a restart run through a fake systemctl to "completed"
// by a real agent, the live stream back after the head restarts, screenshots.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { REPO, tempDir } from "../harness/process.ts";
import { type BrowserFleet, markPage, screenshotEverywhere, startBrowserFleet, stillHere, waitUntil } from "./harness.ts";

const SERVICE = "comfyui.service";
/** How long the fake systemctl takes: the restart is still under way when the page shows it, so "completed" must come live. */
const SYSTEMCTL_SECONDS = 3;

let fleet: BrowserFleet;
/** A demo worker with two hours of history. */
let simId: number;
/** The worker of the real `vigil agent`, whose restarts go through test/fake-systemctl. */
let agentId: number;
let scratch: string;
let systemctlLog: string;

beforeAll(async () => {
  scratch = tempDir("vigil-browser-systemctl-");
  systemctlLog = join(scratch, "systemctl.log");
  fleet = await startBrowserFleet({ workers: 6, gpus: 8 });
  try {
    const list = ((await (await fleet.api("/api/v1/workers")).json()) as { workers: { id: number; name: string }[] }).workers;
    simId = list.find((w) => w.name === fleet.workers[0])!.id;
    // Beside the simulated fleet, one real agent that may restart one unit, with the fake systemctl first on its PATH.
    agentId = (
      await fleet.startAgent("gpu-restart", {
        VIGIL_RESTART_ALLOW: SERVICE,
        PATH: `${join(REPO, "test/fake-systemctl")}:${process.env.PATH}`,
        FAKE_SYSTEMCTL_LOG: systemctlLog,
        FAKE_SYSTEMCTL_DELAY: String(SYSTEMCTL_SECONDS),
      })
    ).id;
  } catch (err) {
    await fleet.stop();
    throw err;
  }
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Waits until static/charts.js has drawn every chart of the page (it sets data-drawn on each figure, with the instants it drew) and returns the counts. */
async function chartPoints(page: Page): Promise<Record<string, number>> {
  const figures = page.locator("figure.chart[data-metric]");
  await figures.first().waitFor();
  await waitUntil(
    "every chart drawn",
    15_000,
    async () => await figures.evaluateAll((figs) => figs.every((f) => f.hasAttribute("data-drawn"))),
  );
  return Object.fromEntries(
    await figures.evaluateAll((figs) => figs.map((f) => [(f as HTMLElement).dataset.metric!, Number((f as HTMLElement).dataset.drawn)])),
  );
}

describe("worker page in a browser", () => {
  test("the history charts are drawn from the API with points", async () => {
    const page = await fleet.newPage();
    try {
      await page.goto(`/workers/${simId}`);
      const points = await chartPoints(page);
      expect(Object.keys(points).sort()).toEqual(["memoryPercent", "power", "temperature", "utilization"]);
      // The demo's two hours of history, thinned by the API to at most 600 points: far more than a handful each.
      for (const [metric, n] of Object.entries(points)) {
        expect({ metric, enough: n >= 20 }).toEqual({ metric, enough: true });
        expect(n).toBeLessThanOrEqual(600);
      }
      // uPlot drew on a canvas in every figure, and the server-rendered placeholder is gone.
      expect(await page.locator("figure.chart canvas").count()).toBeGreaterThanOrEqual(4);
      expect(await page.locator("figure.chart .chart-placeholder").count()).toBe(0);
    } finally {
      await page.context().close();
    }
  }, 30_000);

  test("the restart dialog runs a restart through systemctl to completed, shown live", async () => {
    const page = await fleet.newPage();
    try {
      await page.goto(`/workers/${agentId}`);
      const dialog = page.locator("details#restart");
      await dialog.locator("summary").click();
      const form = dialog.locator("form.restart-form");
      // The agent's allow-list is what the dialog offers.
      expect(await form.locator('select[name="service"] option').allTextContents()).toEqual([SERVICE]);
      await form.locator('select[name="service"]').selectOption(SERVICE);
      await form.locator('textarea[name="reason"]').fill("browser test: stuck after an out-of-memory error");
      await Promise.all([page.waitForURL((u) => u.searchParams.has("restarted")), form.locator("button.restart-submit").click()]);
      const id = new URL(page.url()).searchParams.get("restarted");
      expect(id).toMatch(/^\d+$/);
      await page.getByText(`Restart #${id} sent`).waitFor();
      await markPage(page);

      const item = page.locator(`#restart-status article[data-restart="${id}"]`);
      // textContent, not innerText: CSS may change the case of what is shown.
      const state = async () => ((await item.locator("mark.restart-state").first().textContent()) ?? "").trim();
      const seen = [await state()];
      // systemctl is still sleeping: the page was drawn before the end.
      expect(seen[0]).not.toBe("completed");
      await waitUntil(`restart #${id} completed (states seen: ${seen.join(", ")})`, 20_000, async () => {
        const s = await state();
        if (s !== seen.at(-1)) seen.push(s);
        return s === "completed";
      });
      // It came over the stream: the same document, no reload.
      expect(await stillHere(page)).toBe(true);
      expect(seen.at(-1)).toBe("completed");
      const done = await item.locator("li.step-done .step-name").allTextContents();
      expect(done.map((s) => s.trim())).toEqual(expect.arrayContaining(["initiated", "restarting", "completed"]));
      expect(await item.getAttribute("aria-busy")).toBeNull();
      // The one call that reached systemctl: this unit, as an argument vector.
      const calls = readFileSync(systemctlLog, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as string[]);
      expect(calls).toEqual([["restart", "--", SERVICE]]);
    } finally {
      await page.context().close();
    }
  }, 40_000);

  test("screenshots of the worker page and its history, dark and light, desktop and phone", async () => {
    const page = await screenshotEverywhere(fleet, `/workers/${simId}`, "worker", {
      ready: async (p) => void (await chartPoints(p)),
    });
    const history = await screenshotEverywhere(fleet, `/workers/${simId}#history`, "worker-history", {
      ready: async (p) => {
        await chartPoints(p);
        // Drawn charts are taller than their placeholders: scroll to the section again once they are in.
        await p.locator("#history").evaluate((el) => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 16));
      },
    });
    for (const path of [...page, ...history]) expect(Bun.file(path).size).toBeGreaterThan(5_000);
    expect(page).toHaveLength(4);
    expect(history).toHaveLength(4);
  }, 60_000);

  // Last: the simulator is started anew by the head's restart.
  test("the live stream resumes by itself after the head restarts, without a reload", async () => {
    const page = await fleet.newPage();
    try {
      const stream = page.waitForResponse((r) => r.url().includes("/events?view="), { timeout: 10_000 });
      await page.goto("/");
      await stream;
      const card = page
        .locator("article, tr")
        .filter({ has: page.getByText(fleet.workers[0]!, { exact: true }) })
        .last();
      await card.waitFor();
      // As in fleet.test.ts: what the server sent, relative times aside.
      const values = async () => (await card.innerHTML()).replace(/\b\d+\s*[smhd](\s*\d+\s*[smhd])*\s+ago\b|just now/g, "");
      const banner = page.locator("#live-banner");
      expect(await banner.isHidden()).toBe(true);
      await markPage(page);
      // htmx pauses streams of hidden tabs (and would then neither reconnect nor say so): this page is the one in front.
      await page.bringToFront();
      expect(await page.evaluate(() => document.visibilityState)).toBe("visible");

      // While the head is down the page says so; it reconnects by itself and live values resume without a reload.
      await fleet.restartHead(async () => {
        await banner.waitFor({ state: "visible", timeout: 20_000 });
        expect(await banner.textContent()).toContain("Live updates paused");
      });
      // htmx retries with backoff (1 s, 2 s, 4 s, ...), so it may take a few seconds after the head is back.
      await banner.waitFor({ state: "hidden", timeout: 30_000 });
      const after = await values();
      await waitUntil(`a new value in ${fleet.workers[0]}'s card after the restart`, 10_000, async () => (await values()) !== after);
      expect(await stillHere(page)).toBe(true);
    } finally {
      await page.context().close();
    }
  }, 90_000);
});
