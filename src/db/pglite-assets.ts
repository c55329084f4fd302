// PGlite's wasm and data files, embedded in the compiled binary (PGlite cannot find them beside its module there).
import pgliteWasmPath from "@electric-sql/pglite/pglite.wasm" with { type: "file" };
import initdbWasmPath from "@electric-sql/pglite/initdb.wasm" with { type: "file" };
import pgliteDataPath from "@electric-sql/pglite/pglite.data" with { type: "file" };

export interface PgliteAssets {
  pgliteWasmModule: WebAssembly.Module;
  initdbWasmModule: WebAssembly.Module;
  fsBundle: Blob;
}

let cached: Promise<PgliteAssets> | undefined;

/**
 * Compiles the wasm modules. `keep` holds them for the next call (tests open many databases);
 * the head opens one and lets them go, since each module costs memory for as long as it is held.
 */
export function loadPgliteAssets(keep = false): Promise<PgliteAssets> {
  if (cached) return cached;
  const loading = (async () => {
    const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
      WebAssembly.compile(await Bun.file(pgliteWasmPath).arrayBuffer()),
      WebAssembly.compile(await Bun.file(initdbWasmPath).arrayBuffer()),
    ]);
    return { pgliteWasmModule, initdbWasmModule, fsBundle: Bun.file(pgliteDataPath) };
  })();
  if (keep) cached = loading;
  return loading;
}
