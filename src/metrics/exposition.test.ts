import { describe, expect, test } from "bun:test";
import { checkExposition } from "../../test/harness/exposition.ts";
import { escapeHelp, escapeLabelValue, Exposition, formatValue } from "./exposition.ts";
import { throttleMask } from "./gpu.ts";

describe("exposition writer", () => {
  test("HELP and TYPE once per family, series in order, and the parser reads values and labels back", () => {
    const out = new Exposition();
    const temp = out.family("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C).");
    temp.add({ gpu: 0, UUID: "GPU-a" }, 71);
    temp.add({ gpu: 1, UUID: "GPU-b" }, 64.5);
    out.family("vigil_ingest_samples_total", "counter", "Samples.").add({ result: "accepted" }, 3);
    const text = out.render();
    expect(text).toBe(
      [
        "# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).",
        "# TYPE DCGM_FI_DEV_GPU_TEMP gauge",
        'DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-a"} 71',
        'DCGM_FI_DEV_GPU_TEMP{gpu="1",UUID="GPU-b"} 64.5',
        "# HELP vigil_ingest_samples_total Samples.",
        "# TYPE vigil_ingest_samples_total counter",
        'vigil_ingest_samples_total{result="accepted"} 3',
        "",
      ].join("\n"),
    );
    const parsed = checkExposition(text);
    expect(parsed.value("DCGM_FI_DEV_GPU_TEMP", { gpu: "1" })).toBe(64.5);
    expect(parsed.families.get("vigil_ingest_samples_total")?.type).toBe("COUNTER");
  });

  test("a null value adds no series (unsupported is absent, never 0); a null label is left out", () => {
    const out = new Exposition();
    const fan = out.family("DCGM_FI_DEV_FAN_SPEED", "gauge", "Fan speed.");
    fan.add({ gpu: 0 }, null);
    fan.add({ gpu: 1 }, undefined);
    expect(out.render()).toBe(""); // a family with no series is not written at all
    out.family("x_info", "gauge", "Info.").add({ a: "1", b: null, c: undefined }, 1);
    expect(out.render()).toContain('x_info{a="1"} 1\n');
  });

  test("label values from agents are escaped and read back unchanged; nothing can be injected", () => {
    const hostile = 'evil"} 1\nDCGM_FI_DEV_GPU_UTIL{gpu="9"} 100\n# TYPE x counter\\';
    const out = new Exposition();
    out.family("node_load1", "gauge", "1m load average.").add({ Hostname: hostile, worker: "w\\1" }, 0.5);
    const text = out.render();
    expect(text.split("\n")).toHaveLength(4); // HELP, TYPE, one sample, the final newline
    const parsed = checkExposition(text);
    expect([...parsed.families.keys()]).toEqual(["node_load1"]);
    expect(parsed.samples("node_load1")[0]?.labels).toEqual({ Hostname: hostile, worker: "w\\1" });
  });

  test("escaping rules of the text format", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeHelp('say "hi"\\\nthere')).toBe('say "hi"\\\\\\nthere');
    expect([formatValue(1.5), formatValue(NaN), formatValue(Infinity), formatValue(-Infinity), formatValue(1e21)]).toEqual([
      "1.5",
      "NaN",
      "+Inf",
      "-Inf",
      "1e+21",
    ]);
  });

  test("a duplicate series keeps the first; the same family declared twice is one family", () => {
    const out = new Exposition();
    out.family("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).").add({ gpu: 0, UUID: "GPU-a" }, 10);
    const again = out.family("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).");
    again.add({ gpu: 0, UUID: "GPU-a" }, 99); // an agent reporting one GPU twice
    again.add({ gpu: 1, UUID: "GPU-b" }, 20);
    const parsed = checkExposition(out.render());
    expect(parsed.samples("DCGM_FI_DEV_GPU_UTIL").map((s) => s.value)).toEqual(["10", "20"]);
  });

  test("names are Vigil's own: a bad one, or one family with two types, is a bug that throws", () => {
    const out = new Exposition();
    expect(() => out.family("bad-name", "gauge", "x")).toThrow("invalid metric name");
    const f = out.family("ok_name", "gauge", "x");
    expect(() => f.add({ "bad-label": "v" }, 1)).toThrow("invalid label name");
    expect(() => f.add({ __reserved: "v" }, 1)).toThrow("invalid label name");
    expect(() => out.family("ok_name", "counter", "x")).toThrow("declared twice");
  });

  test("the strict check rejects what Prometheus would: duplicates, bad values, families split in two", () => {
    expect(() => checkExposition('# HELP a h\n# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n')).toThrow("duplicate series");
    expect(() =>
      checkExposition("# HELP a h\n# TYPE a gauge\na 1\n# HELP b h\n# TYPE b gauge\nb 1\n# HELP a h\n# TYPE a gauge\na 2\n"),
    ).toThrow("second HELP");
    expect(() => checkExposition('# HELP a h\n# TYPE a gauge\na{x="1\n"} 1\n')).toThrow("invalid exposition");
    expect(() => checkExposition("# HELP a h\n# TYPE a gauge\na null\n")).toThrow("not a finite number");
  });
});

describe("throttle reasons as DCGM's bitmask", () => {
  test("the sample's names map back to NVML's bits, 64 bits wide", () => {
    expect(throttleMask([])).toBe(0);
    expect(throttleMask(["sw_power_cap", "hw_thermal_slowdown"])).toBe(0x44);
    expect(throttleMask(["gpu_idle", "display_clock_setting"])).toBe(0x101);
    expect(throttleMask(["unknown_bit_40", "gpu_idle"])).toBe(2 ** 40 + 1);
  });

  test("a name Vigil does not know makes the mask unknowable: no value rather than a wrong one", () => {
    expect(throttleMask(["sw_power_cap", "because_reasons"])).toBeNull();
  });
});
