// End-to-end tests in a real browser: Debian's Chromium driven by playwright-core against a real `vigil serve` fed by `vigil simulate`.
import { tmpdir } from "node:os";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { freePort, REPO, runVigil, spawnVigil, tempDir, type VigilProcess } from "../harness/process.ts";

/** Where scripts/ensure-chromium.sh looks too: VIGIL_CHROMIUM, then Debian's and Ubuntu's paths. */
export function findChromium(): string {
  const candidates = [process.env.VIGIL_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  for (const c of candidates) if (c && Bun.which(c)) return c;
  throw new Error("no Chromium for the browser tests: run scripts/ensure-chromium.sh (make test does), or set VIGIL_CHROMIUM");
}

export const VIEWPORTS = {
  desktop: { width: 1440, height: 900 },
  phone: { width: 390, height: 844 },
} as const;
export type ViewportName = keyof typeof VIEWPORTS;
export type Theme = "dark" | "light";
export const THEMES: readonly Theme[] = ["dark", "light"];

export const ADMIN = { user: "admin", password: "browser-admin-pass-1" } as const;
/**
 * Where screenshots go: the README's docs/screenshots/ when VIGIL_SCREENSHOTS=1 (refresh them on purpose, then commit),
 * otherwise a scratch directory, so an ordinary `make test` leaves the working tree clean.
 */
export const SCREENSHOTS = process.env.VIGIL_SCREENSHOTS === "1" ? join(REPO, "docs/screenshots") : join(tmpdir(), "vigil-screenshots");
/** The key static/theme.js keeps the chosen theme under. */
const THEME_KEY = "vigil-theme";

export interface BrowserFleet {
  /** http://127.0.0.1:PORT of the head */
  url: string;
  /** The head process now (a new one after restartHead). */
  head: VigilProcess;
  /** null when started with workers: 0; a new one after restartHead. */
  simulator: VigilProcess | null;
  /** An admin API token (Bearer) for arranging things through the API. */
  token: string;
  dataDir: string;
  browser: Browser;
  /** Names of the simulated workers: sim-0001, ... */
  workers: string[];
  /** fetch against the head with the admin token; a JSON body is sent as JSON. */
  api(path: string, init?: { method?: string; json?: unknown; token?: string }): Promise<Response>;
  /** A fresh browser context (own cookies and storage) at this viewport and theme, signed in as admin unless `signedIn: false`. */
  newPage(opts?: { viewport?: ViewportName; theme?: Theme; signedIn?: boolean }): Promise<Page>;
  /**
   * Registers worker `name` through the API and starts a real `vigil agent` for it (no GPU, a sample a second, `env`
   * added to its environment: VIGIL_RESTART_ALLOW, PATH to a fake systemctl...); returns once the head has its first
   * sample. stop() stops it.
   */
  startAgent(name: string, env?: Record<string, string>): Promise<{ id: number; agent: VigilProcess }>;
  /**
   * Stops the head (SIGTERM), runs `whileDown`, and starts it again with the same arguments on the same port and data
   * directory. The simulator does not reconnect, so it is stopped before and started again after (with `--demo`, it
   * then sends only the history it missed); real agents from startAgent reconnect by themselves.
   */
  restartHead(whileDown?: () => Promise<void>): Promise<void>;
  /** Stops the agents, the simulator, the head and the browser and removes the data directory; safe to call twice. */
  stop(): Promise<void>;
}

/** An agent that finds no GPU: neither NVML nor nvidia-smi where it looks. */
const NO_GPU = { VIGIL_NVML_LIB: "/nonexistent/libnvidia-ml.so.1", VIGIL_NVIDIA_SMI: "/nonexistent/nvidia-smi" };

/**
 * Starts a head on a fresh embedded database (no local agent, a known admin password), an admin token made through
 * its admin socket, `vigil simulate` with `workers` x `gpus` (the demo fleet unless `demo: false`), and Chromium.
 * Waits until every simulated worker has been heard from. On any failure everything started so far is stopped.
 */
export async function startBrowserFleet(opts: { workers?: number; gpus?: number; demo?: boolean } = {}): Promise<BrowserFleet> {
  const workers = opts.workers ?? 6;
  const gpus = opts.gpus ?? 8;
  const demo = opts.demo ?? true;
  const dataDir = tempDir("vigil-browser-");
  const port = freePort();
  const started: { head?: VigilProcess; simulator?: VigilProcess; browser?: Browser; agents: VigilProcess[] } = { agents: [] };
  const agentDirs: string[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", killOnExit);
    await started.browser?.close().catch(() => {});
    for (const a of started.agents) await a.stop("SIGTERM");
    if (started.simulator) await started.simulator.stop("SIGTERM");
    if (started.head) await started.head.stop("SIGTERM");
    for (const d of [dataDir, ...agentDirs]) rmSync(d, { recursive: true, force: true });
  };
  // A test run that dies without afterAll still leaves no head, simulator or agent behind.
  const killOnExit = () => {
    for (const p of [...started.agents, started.simulator, started.head]) if (p && p.proc.exitCode === null) p.proc.kill("SIGKILL");
  };
  process.on("exit", killOnExit);

  try {
    const env = { VIGIL_DATA_DIR: dataDir, VIGIL_ADMIN_PASSWORD: ADMIN.password };
    // Chromium starts while the head runs initdb.
    const browserStarting = chromium.launch({
      executablePath: findChromium(),
      headless: true,
      // No sandbox (tests run as root in containers), no calls home, /tmp instead of a small /dev/shm.
      args: ["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"],
    });
    browserStarting.then((b) => (started.browser = b)).catch(() => {});
    const startHead = () =>
      (started.head = spawnVigil({ args: ["serve", "--listen", `127.0.0.1:${port}`, "--no-local-agent"], env, port }));
    const head = startHead();
    await head.ready(60_000);
    const created = await runVigil(["token", "create", "--name", "browser-tests", "--role", "admin"], env);
    if (created.code !== 0) throw new Error(`vigil token create failed: ${created.stderr}`);
    const token = created.stdout.trim();
    const names = Array.from({ length: workers }, (_, i) => `sim-${String(i + 1).padStart(4, "0")}`);
    const startSimulator = () =>
      (started.simulator = spawnVigil({
        args: ["simulate", "--head", head.url, "--workers", String(workers), "--gpus", String(gpus), "--interval", "1"].concat(
          demo ? ["--demo"] : [],
        ),
        env: { VIGIL_TOKEN: token },
        port,
      }));
    if (workers > 0) {
      startSimulator();
      await waitUntil("every simulated worker heard from", 30_000, async () => {
        if (started.simulator!.proc.exitCode !== null) throw new Error(`vigil simulate exited:\n${started.simulator!.stderr()}`);
        const r = await fetch(`${head.url}/api/v1/workers`, { headers: { authorization: `Bearer ${token}` } });
        const list = ((await r.json()) as { workers: { name: string; lastSeenAt: string | null }[] }).workers;
        return names.every((n) => list.some((w) => w.name === n && w.lastSeenAt));
      });
      // The demo's 2 h of history goes in first: charts are full, and pages are not slowed by it during the tests.
      if (demo) await waitUntil("the demo's history", 60_000, () => started.simulator!.stderr().includes("samples of history"));
    }
    const browser = await browserStarting;

    const api: BrowserFleet["api"] = (path, init = {}) =>
      fetch(`${head.url}${path}`, {
        method: init.method ?? (init.json === undefined ? "GET" : "POST"),
        headers: { authorization: `Bearer ${init.token ?? token}`, "content-type": "application/json" },
        body: init.json === undefined ? undefined : JSON.stringify(init.json),
      });

    let storageState: Awaited<ReturnType<BrowserContext["storageState"]>> | undefined;
    const newPage: BrowserFleet["newPage"] = async ({ viewport = "desktop", theme = "dark", signedIn = true } = {}) => {
      if (signedIn && !storageState) {
        // Signs in once through the real form; later contexts reuse the session cookie.
        const context = await browser.newContext({ viewport: VIEWPORTS.desktop });
        await login(await context.newPage(), head.url, ADMIN.user, ADMIN.password);
        storageState = await context.storageState();
        await context.close();
      }
      const context = await browser.newContext({
        viewport: VIEWPORTS[viewport],
        ...(viewport === "phone" ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
        storageState: signedIn ? storageState : undefined,
        baseURL: head.url,
        reducedMotion: "reduce",
      });
      await useTheme(context, theme);
      return context.newPage();
    };

    const startAgent: BrowserFleet["startAgent"] = async (name, agentEnv = {}) => {
      const r = await api("/api/v1/workers", { json: { name } });
      if (r.status >= 300) throw new Error(`registering ${name}: ${r.status} ${await r.text()}`);
      const ticket = (await r.json()) as { workerId: number; enrollmentToken: string };
      const agentDir = tempDir("vigil-browser-agent-");
      agentDirs.push(agentDir);
      const agent = spawnVigil({
        args: ["agent", "--head", head.url, "--token", ticket.enrollmentToken, "--interval", "1"],
        env: { VIGIL_AGENT_DIR: agentDir, ...NO_GPU, ...agentEnv },
        port,
      });
      started.agents.push(agent);
      await waitUntil(`the agent of ${name} heard from`, 30_000, async () => {
        if (agent.proc.exitCode !== null) throw new Error(`vigil agent exited:\n${agent.stderr()}`);
        const list = ((await (await api("/api/v1/workers")).json()) as { workers: { id: number; lastSeenAt: string | null }[] }).workers;
        return list.some((w) => w.id === ticket.workerId && w.lastSeenAt);
      });
      return { id: ticket.workerId, agent };
    };

    const restartHead: BrowserFleet["restartHead"] = async (whileDown) => {
      const hadSimulator = started.simulator !== undefined;
      if (started.simulator) await started.simulator.stop("SIGTERM");
      started.simulator = undefined;
      fleet.simulator = null;
      const code = await started.head!.stop("SIGTERM");
      if (code !== 0) throw new Error(`the head exited with ${code} on SIGTERM:\n${started.head!.stderr()}`);
      await whileDown?.();
      fleet.head = startHead();
      await fleet.head.ready(60_000);
      if (!hadSimulator) return;
      const simulator = startSimulator();
      fleet.simulator = simulator;
      const done = demo ? "samples of history" : "simulating";
      await waitUntil("the simulator again", 30_000, () => {
        if (simulator.proc.exitCode !== null) throw new Error(`vigil simulate exited:\n${simulator.stderr()}`);
        return simulator.stderr().includes(done);
      });
    };

    const fleet: BrowserFleet = {
      url: head.url,
      head,
      simulator: started.simulator ?? null,
      token,
      dataDir,
      browser,
      workers: names,
      api,
      newPage,
      startAgent,
      restartHead,
      stop,
    };
    return fleet;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Signs in through the real form at /login and waits until the browser has left it. */
export async function login(page: Page, baseUrl: string, user: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.locator('input[name="name"]').fill(user);
  await page.locator('input[name="password"]').fill(password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/login")), page.locator('button[type="submit"]').click()]);
}

/**
 * Every page of the context opens in this theme: stored where static/theme.js reads it, and set as Pico's data-theme
 * attribute on <html> before any script runs (so it holds for pages that do not load the theme script too).
 */
export async function useTheme(context: BrowserContext, theme: Theme): Promise<void> {
  await context.addInitScript(
    ({ key, theme }) => {
      try {
        localStorage.setItem(key, theme);
      } catch {
        /* storage blocked: the attribute below still applies */
      }
      document.documentElement?.setAttribute("data-theme", theme);
    },
    { key: THEME_KEY, theme },
  );
}

/**
 * Writes docs/screenshots/<name>.png of what the page shows now (the viewport; `fullPage` for all of it), in `theme`
 * when given (Pico's data-theme on <html>), with animations and the caret stilled so images differ only when pages do.
 */
export async function screenshot(page: Page, name: string, opts: { theme?: Theme; fullPage?: boolean } = {}): Promise<string> {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`screenshot name ${name}: use a-z, 0-9 and '-'`);
  if (opts.theme) await page.evaluate((t) => document.documentElement.setAttribute("data-theme", t), opts.theme);
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: opts.fullPage ?? false, animations: "disabled", caret: "hide" });
  return path;
}

/**
 * The page at `path` in both themes at both widths: docs/screenshots/<name>-<desktop|phone>-<dark|light>.png. One page
 * load per width (the theme is switched in place, as the toggle does). `ready` runs before the pictures (wait for a
 * chart, open a dialog).
 */
export async function screenshotEverywhere(
  fleet: BrowserFleet,
  path: string,
  name: string,
  opts: { signedIn?: boolean; fullPage?: boolean; ready?: (page: Page) => Promise<void> } = {},
): Promise<string[]> {
  const written: string[] = [];
  for (const viewport of Object.keys(VIEWPORTS) as ViewportName[]) {
    const page = await fleet.newPage({ viewport, signedIn: opts.signedIn });
    try {
      await page.goto(path);
      await opts.ready?.(page);
      for (const theme of THEMES) written.push(await screenshot(page, `${name}-${viewport}-${theme}`, { theme, fullPage: opts.fullPage }));
    } finally {
      await page.context().close();
    }
  }
  return written;
}

/** Polls `check` every 100 ms until it returns true; throws naming `what` after `timeoutMs` (and at once when `check` throws). */
export async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await Bun.sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Opens a live page and waits until its SSE stream is open. */
export async function openLive(page: Page, path: string): Promise<void> {
  const stream = page.waitForResponse((r) => r.url().includes("/events?view="), { timeout: 10_000 });
  await page.goto(path);
  await stream;
}

/** Marks the document; a reload (or any navigation) loses the mark. */
export const markPage = (page: Page) => page.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true));
export const stillHere = (page: Page) => page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere === true);
