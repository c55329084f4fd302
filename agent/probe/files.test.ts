// Checks the files probe on a temp model directory: present and missing files, and paths that lead outside VIGIL_PROBE_PATHS.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProbeContext } from "./context.ts";
import { filesProbe } from "./files.ts";

const tmp = realpathSync(mkdtempSync(join(tmpdir(), "vigil-probe-files-")));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const models = join(tmp, "models");
mkdirSync(join(models, "sdxl"), { recursive: true });
writeFileSync(join(models, "sdxl", "unet.safetensors"), "0123456789");
utimesSync(join(models, "sdxl", "unet.safetensors"), new Date("2026-11-20T08:00:00Z"), new Date("2026-11-20T08:00:00Z"));
writeFileSync(join(tmp, "outside.key"), "secret");
symlinkSync(join(tmp, "outside.key"), join(models, "key-link"));
const ctx: ProbeContext = { settings: { logUnits: [], paths: [models] }, timeoutMs: 5000 };

describe("filesProbe", () => {
  test("each path: there or not, its type, size and modification time", async () => {
    const r = await filesProbe(
      { paths: [join(models, "sdxl", "unet.safetensors"), join(models, "sdxl", "vae.safetensors"), join(models, "sdxl")] },
      ctx,
    );
    expect(r.files).toEqual([
      {
        path: join(models, "sdxl", "unet.safetensors"),
        exists: true,
        type: "file",
        size: 10,
        mtime: "2026-11-20T08:00:00.000Z",
      },
      { path: join(models, "sdxl", "vae.safetensors"), exists: false, type: null, size: null, mtime: null },
      { path: join(models, "sdxl"), exists: true, type: "directory", size: expect.any(Number), mtime: expect.any(String) },
    ]);
  });

  test("a path outside refuses the whole probe, so nothing is learned about the others", async () => {
    await expect(filesProbe({ paths: [join(models, "sdxl", "unet.safetensors"), "/etc/shadow"] }, ctx)).rejects.toThrow(
      `path /etc/shadow is not under VIGIL_PROBE_PATHS (${models})`,
    );
  });

  test('neither ".." nor a symlink leads out', async () => {
    await expect(filesProbe({ paths: [`${models}/../outside.key`] }, ctx)).rejects.toThrow(`it leads to ${join(tmp, "outside.key")}`);
    await expect(filesProbe({ paths: [join(models, "key-link")] }, ctx)).rejects.toThrow(`it leads to ${join(tmp, "outside.key")}`);
  });

  test("more than 64 paths are refused", async () => {
    const paths = Array.from({ length: 65 }, (_, i) => join(models, `f${i}`));
    await expect(filesProbe({ paths }, ctx)).rejects.toThrow("65 paths asked; at most 64");
    expect((await filesProbe({ paths: paths.slice(0, 64) }, ctx)).files).toHaveLength(64);
  });
});
