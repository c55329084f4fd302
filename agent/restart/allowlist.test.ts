// Checks the restart allow-list: systemd's unit-name rules, parsing the env value and the file, and exact matching.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isValidUnitName, loadAllowList, parseAllowList, restartRefusal, unitNameProblem } from "./allowlist.ts";

const tmp = mkdtempSync(join(tmpdir(), "vigil-allowlist-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("unitNameProblem", () => {
  test.each([
    "comfyui.service",
    "vllm.service",
    "foo@1.service",
    "getty@tty1.service",
    "foo@bar@baz.service",
    "system-getty.slice",
    "dev-sda1.device",
    "home.mount",
    "proc-sys-fs-binfmt_misc.automount",
    "sshd.socket",
    "backup.timer",
    "multi-user.target",
    "vigil\\x2dworker.service",
    "a:b.service",
    "x".repeat(247) + ".service",
  ])("accepts %p", (name) => {
    expect(unitNameProblem(name)).toBeNull();
    expect(isValidUnitName(name)).toBe(true);
  });

  test.each([
    ["", /empty/],
    ["x;id", /contains ";"/],
    ["x;id.service", /contains ";"/],
    ["../x", /contains "\/"/],
    ["/etc/systemd/system/x.service", /contains "\/"/],
    ["--help", /starts with "-"/],
    ["-.mount", /starts with "-"/],
    ["comfyui", /no unit type suffix/],
    ["a b.service", /contains a space/],
    ["comfyui.service ", /contains a space/],
    ["comfyui.service\n", /whitespace \(U\+000A\)/],
    ["comfyui.service\0", /control character \(U\+0000\)/],
    ["x$(id).service", /contains "\$"/],
    ["x`id`.service", /contains "`"/],
    ["comfyui.\u0455ervice", /U\+0455, not ASCII/], // Cyrillic "ѕ"
    ["c\u043emfyui.service", /U\+043E, not ASCII/], // Cyrillic "о"
    ["comfyui\uff0eservice", /U\+FF0E, not ASCII/], // full-width "."
    ["x".repeat(292) + ".service", /300 characters long/],
    [".service", /nothing before the unit type/],
    ["comfyui.exe", /"\.exe" is not a unit type/],
    ["comfyui.Service", /"\.Service" is not a unit type/],
    ["foo@.service", /template/],
    ["@foo.service", /nothing before "@"/],
  ])("refuses %p", (name, why) => {
    expect(unitNameProblem(name)).toMatch(why);
    expect(isValidUnitName(name)).toBe(false);
  });

  test("a 255-character name is the longest allowed", () => {
    expect(unitNameProblem("x".repeat(247) + ".service")).toBeNull();
    expect(unitNameProblem("x".repeat(248) + ".service")).toMatch(/256 characters long/);
  });
});

describe("parseAllowList", () => {
  test("reads the comma-separated value of VIGIL_RESTART_ALLOW", () => {
    expect(parseAllowList("comfyui.service,vllm.service")).toEqual(["comfyui.service", "vllm.service"]);
    expect(parseAllowList(" comfyui.service , vllm.service ,")).toEqual(["comfyui.service", "vllm.service"]);
  });

  test("reads a file: one unit per line, comments, blank lines, CRLF, duplicates once", () => {
    const text =
      "# units the head may restart\r\n\r\ncomfyui.service\r\nvllm.service   # the inference server\n  \nfoo@1.service\ncomfyui.service\n";
    expect(parseAllowList(text)).toEqual(["comfyui.service", "vllm.service", "foo@1.service"]);
  });

  test("an empty or all-comment text allows nothing", () => {
    expect(parseAllowList("")).toEqual([]);
    expect(parseAllowList("# nothing yet\n\n")).toEqual([]);
  });

  test("an invalid entry is an error naming it, not a silently shorter list", () => {
    expect(() => parseAllowList("comfyui.service,x;id")).toThrow('restart allow-list: "x;id" is not a valid unit name');
    expect(() => parseAllowList("comfyui")).toThrow(/"comfyui" is not a valid unit name: it has no unit type suffix/);
    expect(() => parseAllowList("comfyui.service vllm.service")).toThrow(/contains a space/);
  });
});

describe("loadAllowList", () => {
  test("joins the env value and the file", () => {
    const file = join(tmp, "restart-allow");
    writeFileSync(file, "# allowed\nvllm.service\nsd.service\n");
    expect(loadAllowList({ env: "comfyui.service,vllm.service", file })).toEqual(["comfyui.service", "vllm.service", "sd.service"]);
    expect(loadAllowList({ file })).toEqual(["vllm.service", "sd.service"]);
    expect(loadAllowList({})).toEqual([]);
  });

  test("a named file that cannot be read, or holds a bad entry, is an error with its path", () => {
    const missing = join(tmp, "missing");
    expect(() => loadAllowList({ file: missing })).toThrow(`failed to read the restart allow-list ${missing}: ENOENT`);
    const bad = join(tmp, "bad");
    writeFileSync(bad, "comfyui.service\n../x\n");
    expect(() => loadAllowList({ file: bad })).toThrow(`${bad}: restart allow-list: "../x" is not a valid unit name`);
  });
});

describe("restartRefusal", () => {
  const allow = ["comfyui.service", "vllm.service", "foo@1.service"];

  test("an exact entry of the list is allowed", () => {
    for (const unit of allow) expect(restartRefusal(unit, allow)).toBeNull();
  });

  test("anything else is refused, with the reason", () => {
    expect(restartRefusal("sshd.service", allow)).toBe('"sshd.service" is not on this agent\'s restart allow-list');
    expect(restartRefusal("COMFYUI.service", allow)).toMatch(/not on this agent's restart allow-list/);
    expect(restartRefusal("foo@2.service", allow)).toMatch(/not on this agent's restart allow-list/);
    expect(restartRefusal("comfyui", allow)).toBe(
      '"comfyui" is not a valid unit name: it has no unit type suffix such as .service (one of .service, .socket, .target, .device, .mount, .automount, .swap, .timer, .path, .slice, .scope) (did you mean comfyui.service?)',
    );
    expect(restartRefusal("x;id", allow)).toMatch(/^"x;id" is not a valid unit name: it contains ";"/);
    expect(restartRefusal("comfyui.\u0455ervice", allow)).toMatch(/not ASCII/);
  });

  test("an empty list refuses everything", () => {
    expect(restartRefusal("comfyui.service", [])).toMatch(/allows no restarts/);
  });
});
