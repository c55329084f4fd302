// The health page in Chromium: a local HTTP service added through the API turns its card red live when it stops answering,
// within one check interval and without a reload; its timeline's windows link to their details.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { freePort, runVigil, spawnVigil, tempDir, type VigilProcess } from "../harness/process.ts";
import { ADMIN, findChromium, login, markPage, openLive, stillHere, waitUntil } from "./harness.ts";

/** The service's check interval: the card must turn within one of these (plus the hub's tick). */
const INTERVAL_SECONDS = 5;

let dataDir: string;
let head: VigilProcess | undefined;
let browser: Browser | undefined;
let service: ReturnType<typeof Bun.serve> | undefined;
let token: string;
let serviceId: number;

const api = (path: string, json?: unknown) =>
  fetch(`${head!.url}${path}`, {
    method: json === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: json === undefined ? undefined : JSON.stringify(json),
  });

const latestStatus = async () =>
  ((await (await api(`/api/v1/services/${serviceId}`)).json()) as { service: { latest: { status: string } | null } }).service.latest
    ?.status;

beforeAll(async () => {
  // Its own head rather than the shared fleet harness: the head must be allowed to reach 127.0.0.1, which Vigil refuses by default.
  dataDir = tempDir("vigil-browser-health-");
  const port = freePort();
  const env = { VIGIL_DATA_DIR: dataDir, VIGIL_ADMIN_PASSWORD: ADMIN.password, VIGIL_OUTBOUND_ALLOW: "127.0.0.0/8" };
  const launching = chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: ["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"],
  });
  launching.then((b) => (browser = b)).catch(() => {});
  head = spawnVigil({ args: ["serve", "--listen", `127.0.0.1:${port}`, "--no-local-agent"], env, port });
  await head.ready(60_000);
  const created = await runVigil(["token", "create", "--name", "browser-health", "--role", "admin"], env);
  if (created.code !== 0) throw new Error(`vigil token create failed: ${created.stderr}`);
  token = created.stdout.trim();
  browser = await launching;

  service = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ready") });
  const r = await api("/api/v1/services", {
    name: "inference-api",
    kind: "http",
    config: { url: `http://127.0.0.1:${service.port}/health` },
    intervalSeconds: INTERVAL_SECONDS,
    timeoutSeconds: 2,
  });
  if (r.status !== 201) throw new Error(`adding the service: ${r.status} ${await r.text()}`);
  serviceId = ((await r.json()) as { service: { id: number } }).service.id;
  // Added services are checked at once.
  await waitUntil("the service's first healthy check", 20_000, async () => (await latestStatus()) === "healthy");
}, 120_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  service?.stop(true);
  await head?.stop("SIGTERM");
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("health page in a browser", () => {
  test("a stopped HTTP service turns its card red live, within one interval, without a reload", async () => {
    const context = await browser!.newContext({ viewport: { width: 1440, height: 900 }, baseURL: head!.url, reducedMotion: "reduce" });
    const blocked: string[] = [];
    try {
      const page = await context.newPage();
      page.on("console", (m) => {
        if (m.type() === "error" && /Content Security Policy/i.test(m.text())) blocked.push(m.text());
      });
      await login(page, head!.url, ADMIN.user, ADMIN.password);
      await openLive(page, "/health");
      const card = page.locator(`#service-${serviceId}`);
      await page.locator(`#service-${serviceId}.state-healthy`).waitFor({ timeout: 10_000 });
      expect(await card.locator(".service-name").textContent()).toBe("inference-api");
      await markPage(page);
      // htmx pauses streams of hidden tabs: this page is the one in front.
      await page.bringToFront();

      service!.stop(true);
      const stopped = Date.now();
      await page.locator(`#service-${serviceId}.state-down`).waitFor({ timeout: 20_000 });
      const tookMs = Date.now() - stopped;
      // The next check comes within one interval; the hub sends it within its next tick. A little more for a slow machine.
      expect(tookMs).toBeLessThan((INTERVAL_SECONDS + 4) * 1000);
      expect(await stillHere(page)).toBe(true);
      expect(await card.textContent()).toContain("connection refused");
      expect(await card.locator("mark.state").textContent()).toBe("down");

      // The service's page: the down window on the timeline links to its details.
      await page.goto(`/health/${serviceId}`);
      const down = page.locator("#service-timeline a.timeline-part.state-down");
      await down.click();
      const anchor = (await down.getAttribute("href"))!.slice(1);
      expect(new URL(page.url()).hash).toBe(`#${anchor}`);
      const row = page.locator(`tr#${anchor}`);
      await row.waitFor();
      expect(await row.textContent()).toContain("connection refused");
      expect(await row.textContent()).toContain("ongoing");
      expect(blocked).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);

  test("the add form shows only the picked kind's settings, and follows the pick", async () => {
    const context = await browser!.newContext({ viewport: { width: 1440, height: 900 }, baseURL: head!.url });
    try {
      const page = await context.newPage();
      await login(page, head!.url, ADMIN.user, ADMIN.password);
      await page.goto("/health#add-service");
      const form = page.locator("form.service-add");
      await form.evaluate((f) => f.closest("details")?.setAttribute("open", ""));
      const shown = () =>
        form
          .locator(".kind-fields")
          .evaluateAll((sets) => sets.filter((s) => (s as HTMLElement).offsetParent !== null).map((s) => s.getAttribute("data-kind")));
      const kind = form.locator('select[name="kind"]');
      expect(await shown()).toEqual([await kind.inputValue()]);
      expect(await form.locator(".kind-hint").isVisible()).toBe(false);
      await kind.selectOption("tcp");
      expect(await shown()).toEqual(["tcp"]);
      await kind.selectOption("worker-http");
      expect(await shown()).toEqual(["worker-http"]);
      // Whatever kind was picked, the other kinds' fields are still in the form (ignored on save), only out of sight.
      expect(await form.locator(".kind-fields").count()).toBeGreaterThan(5);
    } finally {
      await context.close();
    }
  }, 60_000);

  test("an open log panel reads the log again by itself every few seconds, and stops once closed", async () => {
    // A worker registered but never connected: the agent cannot answer, and the panel says so each time it asks.
    const w = await api("/api/v1/workers", { name: "gpu-logs" });
    const workerId = ((await w.json()) as { workerId: number }).workerId;
    const r = await api("/api/v1/services", {
      name: "vllm",
      kind: "unit",
      config: { unit: "vllm" },
      workerId,
      logSource: "/var/log/vllm.log",
      enabled: false,
    });
    if (r.status !== 201) throw new Error(`adding the service: ${r.status} ${await r.text()}`);
    const id = ((await r.json()) as { service: { id: number } }).service.id;
    const context = await browser!.newContext({ viewport: { width: 1440, height: 900 }, baseURL: head!.url, reducedMotion: "reduce" });
    try {
      const page = await context.newPage();
      await login(page, head!.url, ADMIN.user, ADMIN.password);
      await page.goto(`/health/${id}`);
      await page.getByRole("button", { name: "View log" }).click();
      const panel = page.locator("#service-log");
      await panel.getByText("Could not read the log").waitFor();
      await markPage(page);
      const follows: string[] = [];
      page.on("request", (req) => {
        if (req.url().includes(`/health/${id}/log?follow=1`)) follows.push(req.url());
      });
      await waitUntil("two re-reads of the log", 20_000, () => follows.length >= 2);
      expect(await stillHere(page)).toBe(true);
      expect(await panel.textContent()).toContain("/var/log/vllm.log");
      await panel.getByRole("link", { name: "Close the log" }).click();
      await page.waitForURL((u) => !u.search.includes("log=1"));
      const seen = follows.length;
      await Bun.sleep(6_000);
      expect(follows.length).toBe(seen);
    } finally {
      await context.close();
    }
  }, 90_000);
});
