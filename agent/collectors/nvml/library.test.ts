// Checks how NVML is opened: load errors, optional symbols per driver age, and two fakes in one process.
import { beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeNvml, type FakeNvml } from "../../../test/fake-nvml/hooks.ts";
import { loadNvml, nvmlErrorName, NvmlLoadError } from "./library.ts";
import { OPTIONAL_SYMBOLS } from "./symbols.ts";

let full: FakeNvml;
let old: FakeNvml;
beforeAll(async () => {
  [full, old] = await Promise.all([fakeNvml("full"), fakeNvml("old")]);
});

/** The calls an old driver still has: the first member of each versioned family. */
const OLD_DRIVER_SYMBOLS = [
  "nvmlSystemGetCudaDriverVersion",
  "nvmlDeviceGetPciInfo_v2",
  "nvmlDeviceGetMemoryInfo",
  "nvmlDeviceGetFanSpeed",
  "nvmlDeviceGetCurrentClocksThrottleReasons",
  "nvmlDeviceGetComputeRunningProcesses",
  "nvmlDeviceGetGraphicsRunningProcesses",
];

function loadError(path: string): NvmlLoadError {
  try {
    loadNvml(path).close();
  } catch (err) {
    expect(err).toBeInstanceOf(NvmlLoadError);
    return err as NvmlLoadError;
  }
  throw new Error(`${path} loaded`);
}

test("a missing library is reported in the loader's own words", () => {
  const err = loadError("/nonexistent/libnvidia-ml.so.1");
  expect(err.kind).toBe("missing");
  expect(err.reason).toBe("/nonexistent/libnvidia-ml.so.1: cannot open shared object file: No such file or directory");
});

test("a bare name is not loaded from the working directory", () => {
  // Bun falls back to <cwd>/<name> when the system has no such library; a planted file there must not be loaded.
  const dir = mkdtempSync(join(tmpdir(), "vigil-nvml-cwd-"));
  const cwd = process.cwd();
  try {
    copyFileSync(old.path, join(dir, "libnvidia-ml.so.1"));
    process.chdir(dir);
    const err = loadError("libnvidia-ml.so.1");
    expect(err.reason).toBe(
      `libnvidia-ml.so.1: refusing ${join(dir, "libnvidia-ml.so.1")} in the working directory (give its full path in VIGIL_NVML_LIB to use it)`,
    );
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a library without a core symbol is 'incomplete', naming the symbol", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-nvml-"));
  try {
    writeFileSync(join(dir, "partial.c"), "int nvmlInit_v2(void) { return 0; }\nint nvmlShutdown(void) { return 0; }\n");
    const lib = join(dir, "libpartial.so");
    const cc = Bun.spawnSync([process.env.CC || "cc", "-shared", "-fPIC", "-o", lib, join(dir, "partial.c")]);
    expect(cc.exitCode).toBe(0);
    const err = loadError(lib);
    expect(err.kind).toBe("incomplete");
    expect(err.reason).toMatch(/^Symbol "nvml\w+" not found in ".*libpartial\.so"$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a current driver has every optional symbol", () => {
  const lib = loadNvml(full.path);
  try {
    expect(lib.present).toEqual(Object.keys(OPTIONAL_SYMBOLS) as (keyof typeof OPTIONAL_SYMBOLS)[]);
    expect(typeof lib.nvmlDeviceGetMemoryInfo_v2).toBe("function");
  } finally {
    lib.close();
  }
});

test("an old driver still loads; the symbols it lacks are null", () => {
  const lib = loadNvml(old.path);
  try {
    expect([...lib.present].sort() as string[]).toEqual([...OLD_DRIVER_SYMBOLS].sort());
    expect(lib.nvmlDeviceGetMemoryInfo_v2).toBeNull();
    expect(lib.nvmlDeviceGetComputeRunningProcesses_v3).toBeNull();
    expect(lib.nvmlDeviceGetCurrentClocksEventReasons).toBeNull();
    expect(lib.nvmlDeviceGetFanSpeed_v2).toBeNull();
    expect(lib.nvmlDeviceGetFieldValues).toBeNull();
    expect(typeof lib.nvmlDeviceGetTemperature).toBe("function");
  } finally {
    lib.close();
  }
});

test("both fakes, each named libnvidia-ml.so.1, stay apart when opened by path", () => {
  // The loader matches a bare name against the sonames already loaded, but not a path: opened by path, the old
  // fake is its own mapping (else it would show the full fake's _v2 symbols), so old-driver tests can share a process.
  const a = loadNvml(full.path);
  const b = loadNvml(old.path);
  try {
    expect(a.nvmlDeviceGetMemoryInfo_v2).not.toBeNull();
    expect(b.nvmlDeviceGetMemoryInfo_v2).toBeNull();
    full.resetCalls();
    old.resetCalls();
    a.nvmlErrorString(3);
    a.nvmlErrorString(3);
    b.nvmlErrorString(3);
    expect(full.calls("nvmlErrorString")).toBe(2);
    expect(old.calls("nvmlErrorString")).toBe(1);
    // ...whereas the bare soname now finds a fake already in the process (which is why tests always pass a path).
    loadNvml("libnvidia-ml.so.1").close();
  } finally {
    a.close();
    b.close();
  }
});

test("error codes have nvml.h's names; describe() adds nvmlErrorString's words", () => {
  expect(nvmlErrorName(0)).toBe("NVML_SUCCESS");
  expect(nvmlErrorName(3)).toBe("NVML_ERROR_NOT_SUPPORTED");
  expect(nvmlErrorName(7)).toBe("NVML_ERROR_INSUFFICIENT_SIZE");
  expect(nvmlErrorName(9)).toBe("NVML_ERROR_DRIVER_NOT_LOADED");
  expect(nvmlErrorName(15)).toBe("NVML_ERROR_GPU_IS_LOST");
  expect(nvmlErrorName(999)).toBe("NVML_ERROR_UNKNOWN");
  expect(nvmlErrorName(4242)).toBe("NVML_ERROR_4242");
  const lib = loadNvml(full.path);
  try {
    expect(lib.describe(3)).toBe("NVML_ERROR_NOT_SUPPORTED (Not Supported)");
    expect(lib.describe(15)).toBe("NVML_ERROR_GPU_IS_LOST (GPU is lost)");
  } finally {
    lib.close();
  }
  expect(lib.describe(9)).toBe("NVML_ERROR_DRIVER_NOT_LOADED"); // closed: no call into the library
});
