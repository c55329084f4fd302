// The fleet page in Chromium: sign in through the form, every simulated worker listed, live values without reload, screenshots.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ADMIN, screenshotEverywhere, startBrowserFleet, waitUntil, type BrowserFleet } from "./harness.ts";

let fleet: BrowserFleet;
beforeAll(async () => {
  fleet = await startBrowserFleet({ workers: 6, gpus: 8 });
}, 90_000);
afterAll(() => fleet?.stop());

describe("fleet page in a browser", () => {
  test("the sign-in form refuses a wrong password and lets the admin in", async () => {
    const page = await fleet.newPage({ signedIn: false });
    try {
      await page.goto("/");
      expect(new URL(page.url()).pathname).toBe("/login");
      await page.locator('input[name="name"]').fill(ADMIN.user);
      await page.locator('input[name="password"]').fill("not-the-password");
      await page.locator('button[type="submit"]').click();
      await page.getByText("Wrong user name or password.").waitFor();
      await page.locator('input[name="password"]').fill(ADMIN.password);
      await Promise.all([page.waitForURL((u) => u.pathname === "/"), page.locator('button[type="submit"]').click()]);
      expect(await page.title()).toContain("Vigil");
    } finally {
      await page.context().close();
    }
  });

  test("lists every simulated worker by name", async () => {
    const page = await fleet.newPage();
    try {
      await page.goto("/");
      for (const name of fleet.workers) await page.getByText(name, { exact: true }).first().waitFor({ timeout: 5_000 });
    } finally {
      await page.context().close();
    }
  });

  // Live updates: /events streams the fleet page's regions (src/live), htmx swaps them in.
  test("a value the simulator changes appears within 2 s, without a reload", async () => {
    const page = await fleet.newPage();
    try {
      await page.goto("/");
      // The card (or row) of the first worker: the innermost article or table row holding its name.
      const card = page
        .locator("article, tr")
        .filter({ has: page.getByText(fleet.workers[0]!, { exact: true }) })
        .last();
      // What the server sent, relative times ("3s ago") aside: the numbers and the sparkline, which moves with every sample.
      const values = async () => (await card.innerHTML()).replace(/\b\d+\s*[smhd](\s*\d+\s*[smhd])*\s+ago\b|just now/g, "");
      const first = await values();
      // A reload would wipe this (same-document history changes, such as a filter kept in the URL, would not).
      await page.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true));
      const since = Date.now();
      await waitUntil(
        `a new value in ${fleet.workers[0]}'s card (it reads: ${first.replace(/\s+/g, " ").slice(0, 300)}…)`,
        2_000,
        async () => (await values()) !== first,
      );
      expect(Date.now() - since).toBeLessThan(2_000);
      expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
    } finally {
      await page.context().close();
    }
  });

  test("screenshots of the sign-in and fleet pages, dark and light, desktop and phone", async () => {
    const login = await screenshotEverywhere(fleet, "/login", "login", { signedIn: false });
    const pages = await screenshotEverywhere(fleet, "/", "fleet", {
      // Every worker drawn before the picture.
      ready: (page) => page.getByText(fleet.workers.at(-1)!, { exact: true }).first().waitFor(),
    });
    for (const path of [...login, ...pages]) expect(Bun.file(path).size).toBeGreaterThan(5_000);
    expect(login).toHaveLength(4);
    expect(pages).toHaveLength(4);
  }, 30_000);
});
