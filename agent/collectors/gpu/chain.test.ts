import { describe, expect, test } from "bun:test";
import { GpuCollector } from "./chain.ts";
import { GpuSourceUnavailable, type GpuReading, type GpuSource } from "./source.ts";
import { makeGpu } from "../../../test/fixtures/samples.ts";

function source(name: GpuSource["name"], readings: (GpuReading | Error)[]): GpuSource & { closed: number } {
  let i = 0;
  return {
    name,
    closed: 0,
    async collect() {
      const r = readings[Math.min(i++, readings.length - 1)]!;
      if (r instanceof Error) throw r;
      return r;
    },
    close() {
      this.closed++;
    },
  };
}

const unavailable = (msg: string) => () => {
  throw new GpuSourceUnavailable(msg);
};

describe("GpuCollector: NVML, then nvidia-smi, then none", () => {
  test("uses the first source that opens", async () => {
    const nvml = source("nvml", [{ gpus: [makeGpu(0)] }]);
    const c = new GpuCollector({}, [
      { name: "nvml", open: () => nvml },
      { name: "nvidia-smi", open: unavailable("should not be tried") },
    ]);
    expect(await c.collect()).toEqual({ gpus: [makeGpu(0)], gpuSource: "nvml" });
    expect(c.active).toBe("nvml");
  });

  test("falls back to nvidia-smi when NVML cannot load", async () => {
    const smi = source("nvidia-smi", [{ gpus: [makeGpu(0), makeGpu(1)], notice: "GPU count changed from 1 to 2" }]);
    const c = new GpuCollector({}, [
      { name: "nvml", open: unavailable("NVML not found: libnvidia-ml.so.1: cannot open shared object file") },
      { name: "nvidia-smi", open: async () => smi },
    ]);
    const r = await c.collect();
    expect(r.gpuSource).toBe("nvidia-smi");
    expect(r.gpus).toHaveLength(2);
    expect(r.gpuNotice).toBe("GPU count changed from 1 to 2");
  });

  test("with no source, says why in one line, and does not re-probe every sample", async () => {
    let probes = 0;
    const c = new GpuCollector({ reprobeMs: 60_000 }, [
      {
        name: "nvml",
        open: () => {
          probes++;
          throw new GpuSourceUnavailable("NVML not found: libnvidia-ml.so.1: cannot open shared object file");
        },
      },
      { name: "nvidia-smi", open: unavailable("nvidia-smi not found: executable not in PATH") },
    ]);
    const r = await c.collect();
    expect(r).toEqual({
      gpus: [],
      gpuSource: "none",
      gpuError: "NVML not found: libnvidia-ml.so.1: cannot open shared object file; nvidia-smi not found: executable not in PATH",
    });
    await c.collect();
    await c.collect();
    expect(probes).toBe(1);
  });

  test("a source that breaks while running is closed and the next one takes over", async () => {
    const nvml = source("nvml", [{ gpus: [makeGpu(0)] }, new Error("NVML_ERROR_DRIVER_NOT_LOADED")]);
    const smi = source("nvidia-smi", [{ gpus: [makeGpu(0)] }]);
    let nvmlOpens = 0;
    const c = new GpuCollector({}, [
      {
        name: "nvml",
        open: () => {
          if (nvmlOpens++ > 0) throw new GpuSourceUnavailable("NVML init failed: NVML_ERROR_DRIVER_NOT_LOADED");
          return nvml;
        },
      },
      { name: "nvidia-smi", open: () => smi },
    ]);
    expect((await c.collect()).gpuSource).toBe("nvml");
    const r = await c.collect();
    expect(r.gpuSource).toBe("nvidia-smi");
    expect(r.gpuNotice).toBe("GPU source changed from nvml to nvidia-smi");
    expect(nvml.closed).toBe(1);
  });

  test("an unexpected error while opening is reported with the source's name", async () => {
    const c = new GpuCollector({}, [
      {
        name: "nvml",
        open: () => {
          throw new Error("boom");
        },
      },
      { name: "nvidia-smi", open: unavailable("nvidia-smi not found") },
    ]);
    expect((await c.collect()).gpuError).toBe("nvml failed: boom; nvidia-smi not found");
  });
});
