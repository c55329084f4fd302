// Opens libnvidia-ml through bun:ffi and hands out one typed NvmlLib; load failures become one line a person can act on.
import { dlopen, type Library } from "bun:ffi";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { CORE_SYMBOLS, OPTIONAL_SYMBOLS, type OptionalSymbol } from "./symbols.ts";

type CoreFns = Library<typeof CORE_SYMBOLS>["symbols"];
type OptionalFns = Library<typeof OPTIONAL_SYMBOLS>["symbols"];

/** What the collector sees: the core calls, each optional call or null when this driver lacks it, and error names. */
export type NvmlLib = CoreFns & { readonly [K in OptionalSymbol]: OptionalFns[K] | null } & {
  readonly path: string;
  /** Optional symbols this driver has, in OPTIONAL_SYMBOLS order (for logs and tests). */
  readonly present: readonly OptionalSymbol[];
  /** "NVML_ERROR_NOT_SUPPORTED (Not Supported)": the enum name, then the driver's own words. */
  describe(code: number): string;
  /** dlclose every handle; calling NVML afterwards is undefined behaviour, so the collector guards it. */
  close(): void;
};

/** The library could not be opened, or it lacks a core symbol. `reason` is the loader's own words. */
export class NvmlLoadError extends Error {
  constructor(
    readonly kind: "missing" | "incomplete",
    readonly reason: string,
  ) {
    super(reason);
    this.name = "NvmlLoadError";
  }
}

const ERROR_NAMES: Record<number, string> = {
  0: "NVML_SUCCESS",
  1: "NVML_ERROR_UNINITIALIZED",
  2: "NVML_ERROR_INVALID_ARGUMENT",
  3: "NVML_ERROR_NOT_SUPPORTED",
  4: "NVML_ERROR_NO_PERMISSION",
  5: "NVML_ERROR_ALREADY_INITIALIZED",
  6: "NVML_ERROR_NOT_FOUND",
  7: "NVML_ERROR_INSUFFICIENT_SIZE",
  8: "NVML_ERROR_INSUFFICIENT_POWER",
  9: "NVML_ERROR_DRIVER_NOT_LOADED",
  10: "NVML_ERROR_TIMEOUT",
  11: "NVML_ERROR_IRQ_ISSUE",
  12: "NVML_ERROR_LIBRARY_NOT_FOUND",
  13: "NVML_ERROR_FUNCTION_NOT_FOUND",
  14: "NVML_ERROR_CORRUPTED_INFOROM",
  15: "NVML_ERROR_GPU_IS_LOST",
  16: "NVML_ERROR_RESET_REQUIRED",
  17: "NVML_ERROR_OPERATING_SYSTEM",
  18: "NVML_ERROR_LIB_RM_VERSION_MISMATCH",
  19: "NVML_ERROR_IN_USE",
  20: "NVML_ERROR_MEMORY",
  21: "NVML_ERROR_NO_DATA",
  22: "NVML_ERROR_VGPU_ECC_NOT_SUPPORTED",
  23: "NVML_ERROR_INSUFFICIENT_RESOURCES",
  24: "NVML_ERROR_FREQ_NOT_SUPPORTED",
  25: "NVML_ERROR_ARGUMENT_VERSION_MISMATCH",
  26: "NVML_ERROR_DEPRECATED",
  27: "NVML_ERROR_NOT_READY",
  28: "NVML_ERROR_GPU_NOT_FOUND",
  29: "NVML_ERROR_INVALID_STATE",
  999: "NVML_ERROR_UNKNOWN",
};

/** nvmlReturn_t -> its enum name in nvml.h ("NVML_ERROR_GPU_IS_LOST"); unknown codes keep their number. */
export function nvmlErrorName(code: number): string {
  return ERROR_NAMES[code] ?? `NVML_ERROR_${code}`;
}

/**
 * Bun words a failed dlopen as `Failed to open library "<path>": <dlerror()>`; the dlerror() part is the reason.
 * For a bare name Bun reports its last try, "<cwd>/<name>", which would send the reader looking in the wrong place.
 */
function loaderReason(path: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const reason = /^Failed to open library "[^"]*": ([^]*)$/.exec(message)?.[1] ?? message;
  const inCwd = `${resolve(path)}: `;
  return isBareName(path) && reason.startsWith(inCwd) ? `${path}: ${reason.slice(inCwd.length)}` : reason;
}

function isBareName(path: string): boolean {
  return !path.includes("/");
}

/**
 * Opens NVML at `path` (a file, or a name the dynamic loader looks up such as "libnvidia-ml.so.1"). Nothing is
 * opened until this is called, so importing the collector costs nothing on a machine without NVIDIA GPUs.
 * Throws NvmlLoadError; never calls nvmlInit.
 */
export function loadNvml(path: string): NvmlLib {
  // Bun 1.4.5 falls back to "<cwd>/<name>" when the loader's search path has no such library: on a machine without
  // a driver, a file planted in the agent's working directory would be loaded into a process that often runs as root.
  if (isBareName(path) && existsSync(resolve(path))) {
    throw new NvmlLoadError(
      "missing",
      `${path}: refusing ${resolve(path)} in the working directory (give its full path in VIGIL_NVML_LIB to use it)`,
    );
  }
  let core: Library<typeof CORE_SYMBOLS>;
  try {
    core = dlopen(path, CORE_SYMBOLS);
  } catch (err) {
    const reason = loaderReason(path, err);
    // Bun: `Symbol "nvmlX" not found in "<path>"`: the file opened but is not an NVML we can use.
    throw new NvmlLoadError(/^Symbol "[^"]*" not found/.test(reason) ? "incomplete" : "missing", reason);
  }

  const handles: { close(): void }[] = [core];
  const optional = {} as Record<OptionalSymbol, unknown>;
  const present: OptionalSymbol[] = [];
  for (const name of Object.keys(OPTIONAL_SYMBOLS) as OptionalSymbol[]) {
    try {
      // Same path, so the loader hands back the same mapping; only the symbol lookup can fail.
      const one = dlopen(path, { [name]: OPTIONAL_SYMBOLS[name] });
      handles.push(one);
      optional[name] = one.symbols[name];
      present.push(name);
    } catch {
      // Expected on older drivers: the value this call feeds is reported as null.
      optional[name] = null;
    }
  }

  const errorString = core.symbols.nvmlErrorString;
  let closed = false;
  return {
    ...core.symbols,
    ...(optional as { [K in OptionalSymbol]: OptionalFns[K] | null }),
    path,
    present,
    describe(code: number) {
      const text = closed ? null : errorString(code);
      return text ? `${nvmlErrorName(code)} (${text})` : nvmlErrorName(code);
    },
    close() {
      if (closed) return;
      closed = true;
      for (const handle of handles.reverse()) handle.close();
    },
  };
}
