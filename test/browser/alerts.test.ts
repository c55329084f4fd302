// The alerts page in Chromium: a GPU falling off a real agent's nvidia-smi shows up as firing without a reload, an admin
// acknowledges it in place, and the fleet card counts it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { REPO, tempDir } from "../harness/process.ts";
import { type BrowserFleet, markPage, openLive, startBrowserFleet, stillHere } from "./harness.ts";

const WORKER = "gpu-alerting";

let fleet: BrowserFleet;
let workerId: number;
/** A copy of a two-GPU capture that the fake nvidia-smi replays: editing it changes what the agent sees next second. */
let capture: string;

beforeAll(async () => {
  capture = tempDir("vigil-browser-alerts-");
  cpSync(join(REPO, "test/fake-nvidia-smi/captures/rtx4090-2x"), capture, { recursive: true });
  // No simulated fleet: one real agent is all this needs, and the CI machine has two cores.
  fleet = await startBrowserFleet({ workers: 0 });
  try {
    workerId = (
      await fleet.startAgent(WORKER, {
        VIGIL_NVIDIA_SMI: join(REPO, "test/fake-nvidia-smi/nvidia-smi"),
        FAKE_NVIDIA_SMI_CAPTURE: capture,
      })
    ).id;
  } catch (err) {
    await fleet.stop();
    throw err;
  }
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  if (capture) rmSync(capture, { recursive: true, force: true });
});

describe("alerts page in a browser", () => {
  test("a lost GPU fires live, an admin acknowledges it in place, and the fleet card counts it", async () => {
    const page = await fleet.newPage();
    try {
      await openLive(page, "/alerts");
      const firing = page.locator("#alerts-firing");
      await firing.getByText("Nothing is firing.").waitFor();
      await markPage(page);
      // htmx pauses streams of hidden tabs: this page is the one in front.
      await page.bringToFront();

      // GPU 1 vanishes from nvidia-smi's answer: the built-in "GPU lost" rule fires at once (critical, no duration).
      const csv = join(capture, "query-gpu.csv");
      writeFileSync(csv, `${readFileSync(csv, "utf8").split("\n")[0]}\n`);
      const row = firing.locator("tr.alert-row").filter({ hasText: "GPU lost" });
      await row.waitFor({ timeout: 20_000 });
      // It came over the stream: the same document, no reload.
      expect(await stillHere(page)).toBe(true);
      const text = (await row.textContent()) ?? "";
      expect(text).toContain(WORKER);
      expect(text).toContain("GPU 1 · NVIDIA GeForce RTX 4090");
      expect(text).toContain("critical");

      await row.getByRole("button", { name: "Acknowledge" }).click();
      await row.getByText("acknowledged by user:admin").waitFor({ timeout: 15_000 });
      // htmx posted it in place, and the live region showed the outcome.
      expect(await stillHere(page)).toBe(true);
      expect(await row.getByRole("button", { name: "Acknowledge" }).count()).toBe(0);

      await page.goto("/");
      const badge = page.locator(`#worker-${workerId} a.alert-count`);
      await badge.waitFor();
      expect((await badge.textContent())?.trim()).toBe("1 critical");
      expect(await badge.getAttribute("href")).toBe(`/alerts?worker=${workerId}`);
    } finally {
      await page.context().close();
    }
  }, 60_000);
});
