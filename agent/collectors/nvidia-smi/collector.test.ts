// Runs the fake nvidia-smi of test/fake-nvidia-smi as a real subprocess through openNvidiaSmi.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkSample } from "../../../src/protocol/sample.ts";
import { makeSample } from "../../../test/fixtures/samples.ts";
import { GpuSourceUnavailable, type GpuSource } from "../gpu/source.ts";
import { readingNotice } from "./collector.ts";
import { openNvidiaSmi } from "./index.ts";

const FAKE = join(import.meta.dir, "../../../test/fake-nvidia-smi/nvidia-smi");
const CAPTURES = join(import.meta.dir, "../../../test/fake-nvidia-smi/captures");

const dir = mkdtempSync(join(tmpdir(), "vigil-nvidia-smi-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A /proc with the H100 machine's two processes on GPU 0, and the passwd file beside it.
const PROC = join(dir, "proc");
function addProcess(pid: number, status: string, cmdline: string, cgroup: string) {
  mkdirSync(join(PROC, String(pid)), { recursive: true });
  writeFileSync(join(PROC, String(pid), "status"), status);
  writeFileSync(join(PROC, String(pid), "cmdline"), cmdline);
  writeFileSync(join(PROC, String(pid), "cgroup"), cgroup);
}
const CONTAINER = "4f1c2a9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f";
addProcess(
  48211,
  "Name:\tpython3\nUid:\t1000\t1000\t1000\t1000\n",
  "/usr/bin/python3\0-m\0torch.distributed.run\0",
  `0::/system.slice/docker-${CONTAINER}.scope\n`,
);
addProcess(
  48590,
  "Name:\tpython3\nUid:\t1001\t1001\t1001\t1001\n",
  "/usr/bin/python3\0eval.py\0",
  "0::/user.slice/user-1001.slice/session-4.scope\n",
);
mkdirSync(join(dir, "etc"));
writeFileSync(join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n");

/** Points the fake at a capture for this test; the env is read at every spawn. */
function useCapture(capture: string, mode?: string) {
  process.env.FAKE_NVIDIA_SMI_CAPTURE = capture;
  if (mode) process.env.FAKE_NVIDIA_SMI_MODE = mode;
  else delete process.env.FAKE_NVIDIA_SMI_MODE;
}

const opened: GpuSource[] = [];
async function open(opts: { timeoutMs?: number } = {}) {
  const source = await openNvidiaSmi({ path: FAKE, procRoot: PROC, ...opts });
  opened.push(source);
  return source;
}
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  delete process.env.FAKE_NVIDIA_SMI_CAPTURE;
  delete process.env.FAKE_NVIDIA_SMI_MODE;
});

/** The opening error, for exact message checks. */
async function openError(opts: Parameters<typeof openNvidiaSmi>[0]): Promise<Error> {
  try {
    (await openNvidiaSmi(opts)).close();
  } catch (err) {
    return err as Error;
  }
  throw new Error("openNvidiaSmi succeeded");
}

describe("openNvidiaSmi", () => {
  test("a missing executable is GpuSourceUnavailable, saying so", async () => {
    const err = await openError({ path: join(dir, "no/such/nvidia-smi") });
    expect(err).toBeInstanceOf(GpuSourceUnavailable);
    expect(err.message).toBe(`nvidia-smi not found: ENOENT: no such file or directory, posix_spawn '${join(dir, "no/such/nvidia-smi")}'`);
    const onPath = await openError({ path: "nvidia-smi-not-installed-here" });
    expect(onPath.message).toStartWith("nvidia-smi not found: ");
    expect(onPath.message).toContain("nvidia-smi-not-installed-here");
  });

  test("a machine without the driver: GpuSourceUnavailable with NVIDIA's first line", async () => {
    useCapture("h100-8x", "no-driver");
    const err = await openError({ path: FAKE });
    expect(err).toBeInstanceOf(GpuSourceUnavailable);
    expect(err.message).toBe(
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
    );
  });

  test("a driver without GPUs: GpuSourceUnavailable naming nvidia-smi", async () => {
    useCapture("h100-8x", "no-devices");
    const err = await openError({ path: FAKE });
    expect(err).toBeInstanceOf(GpuSourceUnavailable);
    expect(err.message).toBe("nvidia-smi: No devices were found");
  });

  test("a hung nvidia-smi is killed after timeoutMs and the source is unavailable", async () => {
    useCapture("h100-8x", "hang");
    const started = performance.now();
    const err = await openError({ path: FAKE, timeoutMs: 300 });
    expect(err).toBeInstanceOf(GpuSourceUnavailable);
    expect(err.message).toBe("nvidia-smi (summary) did not finish within 300 ms and was killed");
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("a GPU off the bus does not make the others unavailable: the table still comes", async () => {
    useCapture("h100-8x-fell-off-bus");
    const source = await open();
    expect(source.name).toBe("nvidia-smi");
  });
});

describe("collect", () => {
  test("h100-8x: eight GPUs with the CUDA version of the banner and named processes", async () => {
    useCapture("h100-8x");
    const reading = await (await open()).collect();
    expect(reading.notice).toBeUndefined();
    expect(reading.gpus.map((g) => [g.index, g.cudaVersion, g.processes.length])).toEqual([
      [0, "12.8", 2],
      [1, "12.8", 1],
      [2, "12.8", 1],
      [3, "12.8", 1],
      [4, "12.8", 1],
      [5, "12.8", 1],
      [6, "12.8", 1],
      [7, "12.8", 1],
    ]);
    expect(reading.gpus[0]!.processes).toEqual([
      { pid: 48211, name: "python3", user: "alice", container: CONTAINER.slice(0, 12), usedMemoryMiB: 73868, type: "compute" },
      { pid: 48590, name: "python3", user: "1001", container: null, usedMemoryMiB: 504, type: "compute" },
    ]);
    // Not in this /proc (another PID namespace, or ended): known by pid and memory only.
    expect(reading.gpus[1]!.processes).toEqual([
      { pid: 48212, name: null, user: null, container: null, usedMemoryMiB: 74370, type: "compute" },
    ]);
    expect(reading.gpus[3]!.throttleReasons).toEqual(["sw_power_cap"]);
  });

  test("v100-4x-470: the fields an old driver refuses are dropped or renamed, once", async () => {
    useCapture("v100-4x-470");
    const source = await open();
    for (let i = 0; i < 2; i++) {
      const { gpus } = await source.collect();
      expect(gpus.map((g) => [g.name, g.cudaVersion, g.throttleReasons, g.encoderUtilization, g.computeCapability])).toEqual([
        ["Tesla V100-SXM2-32GB", "11.4", [], null, null],
        ["Tesla V100-SXM2-32GB", "11.4", [], null, null],
        ["Tesla V100-SXM2-32GB", "11.4", ["hw_slowdown", "hw_thermal_slowdown"], null, null],
        ["Tesla V100-SXM2-32GB", "11.4", ["sw_power_cap"], null, null],
      ]);
    }
  });

  test("every capture becomes a valid wire sample", async () => {
    for (const capture of [
      "h100-8x",
      "rtx4090-2x",
      "a100-mig",
      "v100-4x-470",
      "t4",
      "h100-8x-reset-required",
      "h100-8x-fell-off-bus",
      "h100-7x",
    ]) {
      useCapture(capture);
      const source = await open();
      const reading = await source.collect();
      const sample = {
        ...makeSample(1),
        gpus: reading.gpus,
        gpuSource: "nvidia-smi" as const,
        ...(reading.notice ? { gpuNotice: reading.notice } : {}),
      };
      expect({ capture, check: checkSample(sample).ok }).toEqual({ capture, check: true });
      source.close();
    }
  });

  test("a query that hangs is killed after timeoutMs and collect throws", async () => {
    useCapture("h100-8x", "hang-query");
    const source = await open({ timeoutMs: 400 });
    const started = performance.now();
    await expect(source.collect()).rejects.toThrow(/^nvidia-smi --query-gpu=index,uuid,.* did not finish within 400 ms and was killed$/);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("a query nvidia-smi answers with an error fails with its message", async () => {
    useCapture("h100-8x");
    const source = await open();
    process.env.FAKE_NVIDIA_SMI_MODE = "no-driver";
    await expect(source.collect()).rejects.toThrow(
      "nvidia-smi --query-gpu failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
    );
  });

  test("the GPU count changing between readings is a notice", async () => {
    const current = join(dir, "current");
    const point = (capture: string) => {
      rmSync(current, { force: true });
      symlinkSync(join(CAPTURES, capture), current);
    };
    point("h100-8x");
    useCapture(current);
    const source = await open();
    expect((await source.collect()).notice).toBeUndefined();
    point("h100-7x");
    const reading = await source.collect();
    expect(reading.gpus).toHaveLength(7);
    expect(reading.notice).toBe("GPU count changed from 8 to 7");
    expect((await source.collect()).notice).toBeUndefined();
  });

  test("a GPU falling off the bus stays listed, lost, until it is gone from the machine", async () => {
    const current = join(dir, "current");
    const point = (capture: string) => {
      rmSync(current, { force: true });
      symlinkSync(join(CAPTURES, capture), current);
    };
    point("h100-8x");
    useCapture(current);
    const source = await open();
    await source.collect();

    point("h100-8x-fell-off-bus");
    const fell = await source.collect();
    expect(fell.notice).toBe("GPU 3 (00000000:5D:00.0) is lost");
    expect(fell.gpus.map((g) => [g.index, g.lost])).toEqual([
      [0, false],
      [1, false],
      [2, false],
      [3, true],
      [4, false],
      [5, false],
      [6, false],
      [7, false],
    ]);
    expect(fell.gpus[3]).toMatchObject({
      uuid: "GPU-d3f40bee-c810-7518-487a-aaf6d2076d64",
      name: "NVIDIA H100 80GB HBM3",
      utilization: null,
      processes: [],
    });
    // Still lost a reading later: no new notice.
    expect((await source.collect()).notice).toBeUndefined();

    point("h100-7x");
    expect((await source.collect()).notice).toBe("GPU count changed from 8 to 7");
  });

  test("an unreachable GPU on the first reading is told in the notice, since it cannot be listed", async () => {
    useCapture("h100-8x-fell-off-bus");
    const reading = await (await open()).collect();
    expect(reading.gpus).toHaveLength(7);
    expect(reading.notice).toBe("nvidia-smi: Unable to determine the device handle for GPU0000:5D:00.0: Unknown Error");
  });

  test("a GPU that requires a reset is lost from the first reading", async () => {
    useCapture("h100-8x-reset-required");
    const reading = await (await open()).collect();
    expect(reading.notice).toBe("GPU 5 (00000000:AB:00.0) is lost");
    expect(reading.gpus[5]!.lost).toBe(true);
  });

  test("close() ends the source; a second close is harmless", async () => {
    useCapture("t4");
    const source = await open();
    source.close();
    source.close();
    await expect(source.collect()).rejects.toThrow("the nvidia-smi source is closed");
  });
});

describe("the fake itself", () => {
  test("fails for arguments it has no capture for, as nvidia-smi does for bad ones", () => {
    const r = Bun.spawnSync([FAKE, "--list-gpus"], { env: { ...process.env, FAKE_NVIDIA_SMI_CAPTURE: "t4" } });
    expect(r.exitCode).toBe(2);
    expect(r.stdout.toString()).toBe("Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n");
  });

  test("refuses a field list other than the one its capture recorded", () => {
    const r = Bun.spawnSync([FAKE, "--query-gpu=index,name", "--format=csv,noheader,nounits"], {
      env: { ...process.env, FAKE_NVIDIA_SMI_CAPTURE: "t4" },
    });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.toString()).toStartWith("fake nvidia-smi: capture t4 recorded --query-gpu=index,uuid,");
  });
});

test("readingNotice: count change, newly lost GPUs and unmatched error lines, in one line", () => {
  const gpu = (index: number, lost = false) => ({
    ...makeSample(0, { gpus: 3 }).gpus[index % 3]!,
    index,
    uuid: `GPU-${index}`,
    lost,
    pciBusId: `00000000:0${index}:00.0`,
  });
  expect(readingNotice(null, [gpu(0)], [])).toBeUndefined();
  expect(readingNotice([gpu(0), gpu(1)], [gpu(0), gpu(1)], [])).toBeUndefined();
  expect(
    readingNotice([gpu(0), gpu(1)], [gpu(0), gpu(1, true)], [{ busId: null, message: "Unable to determine the device handle for GPU9" }]),
  ).toBe("GPU 1 (00000000:01:00.0) is lost; nvidia-smi: Unable to determine the device handle for GPU9");
  expect(readingNotice([gpu(0), gpu(1, true)], [gpu(0), gpu(1, true), gpu(2)], [])).toBe("GPU count changed from 2 to 3");
});
