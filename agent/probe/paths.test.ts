// Checks that probe paths are resolved as the kernel walks them and kept under VIGIL_PROBE_PATHS: "..", symlinks, dangling links, missing parts.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allowedPath, PathRefused, resolveReal } from "./paths.ts";

const tmp = realpathSync(mkdtempSync(join(tmpdir(), "vigil-probe-paths-")));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const models = join(tmp, "models");
const secret = join(tmp, "secret");
mkdirSync(join(models, "sdxl"), { recursive: true });
mkdirSync(secret);
writeFileSync(join(models, "sdxl", "unet.safetensors"), "weights");
writeFileSync(join(secret, "shadow"), "root:x:0:0");
symlinkSync(secret, join(models, "escape")); // a directory link leading out
symlinkSync(join(secret, "shadow"), join(models, "shadow-link")); // a file link leading out
symlinkSync(join(secret, "not-yet"), join(models, "dangling-out")); // dangling, pointing out
symlinkSync(join(models, "sdxl", "later.bin"), join(models, "dangling-in")); // dangling, pointing in
symlinkSync("sdxl", join(models, "relative-in")); // relative, staying in
symlinkSync(models, join(tmp, "models-link")); // a root given through a link

describe("resolveReal", () => {
  test("an existing path is its realpath", async () => {
    expect(await resolveReal(join(models, "relative-in", "unet.safetensors"))).toBe(join(models, "sdxl", "unet.safetensors"));
  });

  test('".." after a symlink is taken from the link\'s target, as the kernel does', async () => {
    // Lexically this is models/x; the kernel goes secret/.. = tmp, then x.
    // (Written as strings: join() would already fold the ".." away.)
    expect(await resolveReal(`${models}/escape/../x`)).toBe(join(tmp, "x"));
  });

  test("a missing file is placed in its real parent", async () => {
    expect(await resolveReal(join(models, "sdxl", "missing.bin"))).toBe(join(models, "sdxl", "missing.bin"));
    expect(await resolveReal(`${models}/nope/../../secret/shadow`)).toBe(join(secret, "shadow"));
  });

  test("a dangling symlink resolves to its target", async () => {
    expect(await resolveReal(join(models, "dangling-out"))).toBe(join(secret, "not-yet"));
    expect(await resolveReal(join(models, "dangling-in"))).toBe(join(models, "sdxl", "later.bin"));
  });

  test("a symlink loop is an error, not a hang", async () => {
    symlinkSync(join(tmp, "loop-b"), join(tmp, "loop-a"));
    symlinkSync(join(tmp, "loop-a"), join(tmp, "loop-b"));
    await expect(resolveReal(join(tmp, "loop-a"))).rejects.toThrow(/ELOOP|too many levels/);
  });
});

describe("allowedPath", () => {
  const roots = [models];

  test("paths under a root are allowed, existing or not, the root itself too", async () => {
    expect(await allowedPath(join(models, "sdxl", "unet.safetensors"), roots)).toBe(join(models, "sdxl", "unet.safetensors"));
    expect(await allowedPath(join(models, "sdxl", "missing.bin"), roots)).toBe(join(models, "sdxl", "missing.bin"));
    expect(await allowedPath(models, roots)).toBe(models);
    expect(await allowedPath(`${models}/`, roots)).toBe(models);
    expect(await allowedPath(join(models, "relative-in", "unet.safetensors"), roots)).toBe(join(models, "sdxl", "unet.safetensors"));
    expect(await allowedPath(join(models, "dangling-in"), roots)).toBe(join(models, "sdxl", "later.bin"));
  });

  test("a path outside is refused, naming it and the allowed directories", async () => {
    await expect(allowedPath("/etc/shadow", roots)).rejects.toThrow(`path /etc/shadow is not under VIGIL_PROBE_PATHS (${models})`);
    await expect(allowedPath("/etc/shadow", roots)).rejects.toBeInstanceOf(PathRefused);
  });

  test('".." cannot climb out, whether the parts exist or not', async () => {
    await expect(allowedPath(`${models}/../secret/shadow`, roots)).rejects.toThrow(`(it leads to ${join(secret, "shadow")})`);
    await expect(allowedPath(`${models}/nope/../../secret/shadow`, roots)).rejects.toThrow(/is not under VIGIL_PROBE_PATHS/);
    await expect(allowedPath(`${models}/escape/../x`, roots)).rejects.toThrow(`it leads to ${join(tmp, "x")}`);
  });

  test("symlinks cannot lead out: to a directory, to a file, or dangling", async () => {
    await expect(allowedPath(join(models, "escape", "shadow"), roots)).rejects.toThrow(`it leads to ${join(secret, "shadow")}`);
    await expect(allowedPath(join(models, "shadow-link"), roots)).rejects.toThrow(`it leads to ${join(secret, "shadow")}`);
    await expect(allowedPath(join(models, "dangling-out"), roots)).rejects.toThrow(`it leads to ${join(secret, "not-yet")}`);
  });

  test("a prefix of a name is not a parent: /srv/models does not allow /srv/models-old", async () => {
    mkdirSync(join(tmp, "models-old"), { recursive: true });
    await expect(allowedPath(join(tmp, "models-old", "x"), roots)).rejects.toThrow(/is not under/);
  });

  test("a root given through a symlink still holds what is under its target", async () => {
    expect(await allowedPath(join(models, "sdxl"), [join(tmp, "models-link")])).toBe(join(models, "sdxl"));
    expect(await allowedPath(join(tmp, "models-link", "sdxl"), [models])).toBe(join(models, "sdxl"));
  });

  test("relative paths, NUL bytes, and an empty list are refused", async () => {
    await expect(allowedPath("models/sdxl", roots)).rejects.toThrow('path "models/sdxl" is not absolute');
    await expect(allowedPath(`${models}/a\0b`, roots)).rejects.toThrow(/NUL/);
    await expect(allowedPath(join(models, "sdxl"), [])).rejects.toThrow("(not set: this agent reads no files)");
    await expect(allowedPath(join(models, "sdxl"), [join(tmp, "does-not-exist")])).rejects.toThrow(/is not under/);
  });
});
