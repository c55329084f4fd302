// The version string every command reports: package.json's version, plus the build's git commit when compiled.
import pkg from "../package.json" with { type: "json" };

declare const VIGIL_BUILD_COMMIT: string | undefined;

/** Set at compile time by scripts/build.ts through `--define`; absent when run from source. */
const commit = typeof VIGIL_BUILD_COMMIT === "string" ? VIGIL_BUILD_COMMIT : "source";

export const VERSION: string = pkg.version;
export const BUILD_COMMIT: string = commit;
export const VERSION_STRING = `vigil ${VERSION} (${BUILD_COMMIT}, bun ${Bun.version})`;
