// Checks the Docker data directory size: du's output, the data-root lookup, and a loop that never blocks collect().
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readKernelFile } from "./collector.ts";
import { dockerCollector, dockerDataDir, duCommand, measureWithDu, parseDataRoot, parseDu, runBounded, type Measure } from "./docker.ts";

const tmp = mkdtempSync(join(tmpdir(), "vigil-docker-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ctx = (extra: { dockerDir?: string; dockerIntervalMs?: number; procRoot?: string }) => ({
  procRoot: "/nonexistent/proc",
  sysRoot: "/nonexistent",
  now: () => 0,
  ...extra,
});

/** Writes files of the given sizes (random bytes, so no filesystem can compress them) and returns their total. */
function writeFiles(dir: string, sizes: number[]): number {
  mkdirSync(dir, { recursive: true });
  sizes.forEach((size, i) => writeFileSync(join(dir, `layer-${i}`), crypto.getRandomValues(new Uint8Array(size))));
  return sizes.reduce((a, b) => a + b, 0);
}

/** A measure whose result the test hands over when it wants, recording every call. */
function heldMeasure() {
  const calls: string[] = [];
  let release: (bytes: number) => void = () => {};
  let fail: (err: Error) => void = () => {};
  const measure: Measure = (dir) => {
    calls.push(dir);
    return new Promise((resolve, reject) => {
      release = resolve;
      fail = reject;
    });
  };
  return { measure, calls, release: (bytes: number) => release(bytes), fail: (err: Error) => fail(err) };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}

describe("parseDu", () => {
  test("KiB from du -sk, in bytes", () => {
    expect(parseDu("1834412\t/var/lib/docker\n")).toBe(1834412 * 1024);
    expect(parseDu("0\t/empty\n")).toBe(0);
  });

  test("anything else names what du printed", () => {
    expect(() => parseDu("")).toThrow('du printed "", expected "<KiB>\\t<dir>"');
    expect(() => parseDu("du: cannot access '/x': No such file or directory\n")).toThrow("du printed");
  });
});

describe("duCommand", () => {
  test("at the lowest priority where nice exists, on one filesystem, in KiB", () => {
    expect(duCommand("/var/lib/docker", () => "/usr/bin/nice")).toEqual(["nice", "-n", "19", "du", "-skx", "--", "/var/lib/docker"]);
    expect(duCommand("/var/lib/docker", () => null)).toEqual(["du", "-skx", "--", "/var/lib/docker"]);
  });
});

describe("Docker's data-root", () => {
  test("daemon.json's data-root, when it sets an absolute one", () => {
    expect(parseDataRoot('{ "data-root": "/mnt/nvme/docker", "log-driver": "json-file" }')).toBe("/mnt/nvme/docker");
    expect(parseDataRoot('{ "log-driver": "json-file" }')).toBeNull();
    expect(parseDataRoot('{ "data-root": "relative" }')).toBeNull();
    expect(parseDataRoot("null")).toBeNull();
    expect(parseDataRoot("{ not json")).toBeNull();
  });

  test("under the host root: daemon.json's data-root, else /var/lib/docker", async () => {
    const root = join(tmp, "host");
    expect(await dockerDataDir(root)).toBe(join(root, "var/lib/docker"));
    mkdirSync(join(root, "etc/docker"), { recursive: true });
    writeFileSync(join(root, "etc/docker/daemon.json"), '{ "data-root": "/data/docker" }\n');
    expect(await dockerDataDir(root)).toBe(join(root, "data/docker"));
  });
});

describe("runBounded", () => {
  test("returns stdout of a command that succeeds", async () => {
    expect(await runBounded(["echo", "hello"], 5000)).toBe("hello\n");
  });

  test("a non-zero exit carries du's first error line", async () => {
    const missing = join(tmp, "no-such-dir");
    await expect(runBounded(["du", "-skx", "--", missing], 5000)).rejects.toThrow(`du exited with 1: du: cannot access '${missing}'`);
  });

  test("a command past its time limit is killed, not waited for", async () => {
    const start = performance.now();
    await expect(runBounded(["sleep", "10"], 200)).rejects.toThrow("sleep timed out after 0.2 s");
    expect(performance.now() - start).toBeLessThan(3000);
  });

  test("aborting the signal stops the command", async () => {
    const stop = new AbortController();
    const start = performance.now();
    const run = runBounded(["sleep", "10"], 60_000, stop.signal);
    setTimeout(() => stop.abort(), 50);
    await expect(run).rejects.toThrow("sleep was stopped");
    expect(performance.now() - start).toBeLessThan(3000);
  });
});

describe("measureWithDu", () => {
  test("at least the bytes written, in whole KiB", async () => {
    const written = writeFiles(join(tmp, "measured"), [5, 4096, 100_000, 1_048_576]);
    const bytes = await measureWithDu(join(tmp, "measured"), new AbortController().signal);
    expect(bytes).toBeGreaterThanOrEqual(written);
    expect(bytes % 1024).toBe(0);
  });
});

describe("dockerCollector", () => {
  test("collect() returns at once while a measurement runs, and the result shows once it ends", async () => {
    const held = heldMeasure();
    const collector = dockerCollector(held.measure);
    const dir = join(tmp, "held");
    mkdirSync(dir);
    try {
      const start = performance.now();
      expect(collector.collect(ctx({ dockerDir: dir }))).toEqual({ dockerDataBytes: null });
      expect(held.calls).toEqual([]); // not even started inside collect()
      await until(() => held.calls.length === 1);
      expect(held.calls).toEqual([dir]);
      for (let i = 0; i < 5; i++) expect(collector.collect(ctx({ dockerDir: dir }))).toEqual({ dockerDataBytes: null });
      expect(performance.now() - start).toBeLessThan(1000);
      held.release(123 * 1024);
      await Bun.sleep(0);
      expect(collector.collect(ctx({ dockerDir: dir }))).toEqual({ dockerDataBytes: 123 * 1024 });
    } finally {
      collector.close?.();
    }
  });

  test("measures again every interval, one at a time, and close() stops the loop", async () => {
    const held = heldMeasure();
    const collector = dockerCollector(held.measure);
    const dir = join(tmp, "loop");
    mkdirSync(dir);
    try {
      collector.collect(ctx({ dockerDir: dir, dockerIntervalMs: 30 }));
      await until(() => held.calls.length === 1);
      await Bun.sleep(100); // well past the interval, but the first measurement has not ended
      expect(held.calls).toHaveLength(1);
      held.release(1024);
      await until(() => held.calls.length === 2);
      held.release(2048);
      await until(() => collector.collect(ctx({})).dockerDataBytes === 2048);
      collector.close?.();
      await Bun.sleep(100);
      expect(held.calls.length).toBeLessThanOrEqual(3);
      const calls = held.calls.length;
      await Bun.sleep(100);
      expect(held.calls).toHaveLength(calls);
    } finally {
      collector.close?.();
    }
  });

  test("a failed measurement fails collect() with the reason, until one succeeds", async () => {
    const held = heldMeasure();
    const collector = dockerCollector(held.measure);
    const dir = join(tmp, "failing");
    mkdirSync(dir);
    try {
      collector.collect(ctx({ dockerDir: dir, dockerIntervalMs: 30 }));
      await until(() => held.calls.length === 1);
      held.fail(new Error("du timed out after 60 s"));
      await Bun.sleep(0);
      expect(() => collector.collect(ctx({}))).toThrow(
        new RegExp(`^failed to measure ${dir} \\(after \\d+\\.\\d s\\): du timed out after 60 s$`),
      );
      await until(() => held.calls.length === 2);
      held.release(4096);
      await Bun.sleep(0);
      expect(collector.collect(ctx({}))).toEqual({ dockerDataBytes: 4096 });
    } finally {
      collector.close?.();
    }
  });

  test("no directory is null, and nothing is measured", async () => {
    const held = heldMeasure();
    const collector = dockerCollector(held.measure);
    try {
      collector.collect(ctx({ procRoot: join(tmp, "no-docker", "proc"), dockerIntervalMs: 20 }));
      await Bun.sleep(80);
      expect(collector.collect(ctx({}))).toEqual({ dockerDataBytes: null });
      expect(held.calls).toEqual([]);
    } finally {
      collector.close?.();
    }
  });

  test("without dockerDir, the directory under the proc root's parent", async () => {
    const held = heldMeasure();
    const collector = dockerCollector(held.measure);
    const root = join(tmp, "root");
    mkdirSync(join(root, "var/lib/docker"), { recursive: true });
    try {
      collector.collect(ctx({ procRoot: join(root, "proc") }));
      await until(() => held.calls.length === 1);
      expect(held.calls).toEqual([join(root, "var/lib/docker")]);
    } finally {
      collector.close?.();
    }
  });

  test("with du: at least the bytes written, and more after more are written", async () => {
    const dir = join(tmp, "real");
    const first = writeFiles(dir, [10_000, 200_000, 3_000_000]);
    const collector = dockerCollector();
    try {
      expect(collector.collect(ctx({ dockerDir: dir, dockerIntervalMs: 50 }))).toEqual({ dockerDataBytes: null });
      await until(() => collector.collect(ctx({})).dockerDataBytes !== null);
      expect(collector.collect(ctx({})).dockerDataBytes).toBeGreaterThanOrEqual(first);
      const more = writeFiles(join(dir, "more"), [2_000_000]);
      await until(() => (collector.collect(ctx({})).dockerDataBytes ?? 0) >= first + more);
    } finally {
      collector.close?.();
    }
  });
});

describe.skipIf(process.platform !== "linux")("the loop and du never keep the process alive", () => {
  test("an agent that collects once and exits does not wait for du, and du does not outlive it", async () => {
    // A du that hangs: it records its pid, then sleeps where the real one would walk the disk.
    const bin = join(tmp, "bin");
    mkdirSync(bin);
    const pidFile = join(tmp, "du.pid");
    writeFileSync(join(bin, "du"), `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 30\n`);
    chmodSync(join(bin, "du"), 0o755);
    const dir = join(tmp, "slow");
    mkdirSync(dir);
    const script = `
      import { createHostCollector } from ${JSON.stringify(join(import.meta.dir, "index.ts"))};
      const host = createHostCollector({ procRoot: "/nonexistent/proc", dockerDir: ${JSON.stringify(dir)} });
      const { vitals } = await host.collect();
      await Bun.sleep(300); // du is running by now
      console.log(JSON.stringify(vitals.dockerDataBytes));
    `;
    const start = performance.now();
    const child = Bun.spawn([process.execPath, "-e", script], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out.trim()).toBe("null");
    expect(performance.now() - start).toBeLessThan(10_000);
    // Killed at once; its zombie waits for init to reap it, which can take a moment.
    const pid = Number(readFileSync(pidFile, "utf8"));
    const state = () => readKernelFile(`/proc/${pid}/stat`)?.split(") ")[1]?.[0] ?? "gone";
    // SIGKILL is delivered at once but a busy machine may schedule the dying process a moment later.
    for (let i = 0; i < 40 && !["Z", "gone"].includes(state()); i++) await Bun.sleep(50);
    expect(["Z", "gone"]).toContain(state());
  });
});
