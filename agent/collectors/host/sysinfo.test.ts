// Checks OS, kernel, CPU model and CPU count against this machine's captured files and arm64 variants.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  countCpuinfoProcessors,
  countStatCpus,
  osName,
  parseCpuModel,
  parseOsRelease,
  parseOsrelease,
  readSysInfo,
  sysinfoCollector,
} from "./sysinfo.ts";

const FIXTURES = join(import.meta.dir, "../../../test/fixtures");
const PROC = join(FIXTURES, "proc");
const fixture = (path: string) => readFileSync(join(FIXTURES, path), "utf8");
const ctx = (procRoot: string) => ({ procRoot, sysRoot: "/nonexistent", now: () => 0 });

const tmp = mkdtempSync(join(tmpdir(), "vigil-sysinfo-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("os-release", () => {
  test("the captured Debian file gives its PRETTY_NAME", () => {
    const fields = parseOsRelease(fixture("etc/os-release"));
    expect(fields.get("ID")).toBe("debian");
    expect(fields.get("VERSION_ID")).toBe("12");
    expect(osName(fields)).toBe("Debian GNU/Linux 12 (bookworm)");
  });

  test("reads quotes and escapes as os-release(5) writes them, and skips comments", () => {
    const fields = parseOsRelease(`# a comment\nNAME='Single \\ quoted'\nPRETTY_NAME="Say \\"hi\\" for \\$5"\nID=bare\n\nBROKEN LINE\n`);
    expect(Object.fromEntries(fields)).toEqual({ NAME: "Single \\ quoted", PRETTY_NAME: 'Say "hi" for $5', ID: "bare" });
  });

  test("without PRETTY_NAME, NAME and VERSION; with neither, unknown", () => {
    expect(osName(parseOsRelease('NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\n'))).toBe("Rocky Linux 9.4 (Blue Onyx)");
    expect(osName(parseOsRelease("NAME=Alpine\n"))).toBe("Alpine");
    expect(osName(parseOsRelease('ID=x\nPRETTY_NAME=""\n'))).toBeNull();
  });
});

describe("parseOsrelease", () => {
  test("the captured kernel release", () => {
    expect(parseOsrelease(fixture("proc/sys/kernel/osrelease"))).toBe("6.18.44-fc-v657");
    expect(parseOsrelease("\n")).toBeNull();
  });
});

describe("parseCpuModel", () => {
  test("x86: the model name of the captured cpuinfo", () => {
    expect(parseCpuModel(fixture("proc/cpuinfo"))).toBe("Intel(R) Xeon(R) Processor");
  });

  test("extra spaces in an old Intel model name collapse", () => {
    expect(parseCpuModel("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU           E5-2680 0 @ 2.70GHz\n")).toBe(
      "Intel(R) Xeon(R) CPU E5-2680 0 @ 2.70GHz",
    );
  });

  test("arm64: the core named from its implementer and part", () => {
    expect(parseCpuModel(fixture("proc/variants/cpuinfo-arm64-grace"))).toBe("ARM Neoverse-V2");
    // The part says what the cores are; the Pi's "Hardware: BCM2835" names an older SoC family.
    expect(parseCpuModel(fixture("proc/variants/cpuinfo-arm64-raspberrypi"))).toBe("ARM Cortex-A72");
  });

  test("arm64 big.LITTLE names both kinds of core", () => {
    const block = (i: number, part: string) => `processor\t: ${i}\nCPU implementer\t: 0x41\nCPU part\t: ${part}\n`;
    expect(parseCpuModel([block(0, "0xd05"), block(1, "0xd05"), block(2, "0xd0b")].join("\n"))).toBe("ARM Cortex-A55 + ARM Cortex-A76");
  });

  test("an unknown part falls back to Hardware, and then to unknown", () => {
    const unknownPart = "processor\t: 0\nCPU implementer\t: 0x51\nCPU part\t: 0x802\n";
    expect(parseCpuModel(`${unknownPart}\nHardware\t: Qualcomm Technologies, Inc SM8150\n`)).toBe("Qualcomm Technologies, Inc SM8150");
    expect(parseCpuModel(unknownPart)).toBeNull();
    expect(parseCpuModel("")).toBeNull();
  });
});

describe("CPU count", () => {
  test("the cpuN lines of /proc/stat", () => {
    expect(countStatCpus(fixture("proc/stat"))).toBe(2);
    expect(countStatCpus(fixture("proc/variants/stat-16cpu-8-columns"))).toBe(16);
    expect(countStatCpus("cpu  1 2 3 4\n")).toBeNull();
  });

  test("the processor entries of cpuinfo, not 32-bit ARM's Processor model line", () => {
    expect(countCpuinfoProcessors(fixture("proc/cpuinfo"))).toBe(2);
    expect(countCpuinfoProcessors(fixture("proc/variants/cpuinfo-arm64-grace"))).toBe(4);
    expect(countCpuinfoProcessors("Processor\t: ARMv7 Processor rev 4 (v7l)\nprocessor\t: 0\nprocessor\t: 1\n")).toBe(2);
    expect(countCpuinfoProcessors("")).toBeNull();
  });
});

describe("readSysInfo", () => {
  test("the fixture tree: os-release from test/fixtures/etc, the rest from the proc tree", () => {
    expect(readSysInfo(PROC)).toEqual({
      os: "Debian GNU/Linux 12 (bookworm)",
      kernel: "6.18.44-fc-v657",
      cpuModel: "Intel(R) Xeon(R) Processor",
      cpuCores: 2,
    });
  });

  test("/usr/lib/os-release where /etc has none, and cpuinfo's count where /proc/stat is missing", () => {
    const root = join(tmp, "usr-lib");
    mkdirSync(join(root, "usr/lib"), { recursive: true });
    mkdirSync(join(root, "proc"), { recursive: true });
    writeFileSync(join(root, "usr/lib/os-release"), 'PRETTY_NAME="Fedora Linux 40 (Server Edition)"\n');
    writeFileSync(join(root, "proc/cpuinfo"), fixture("proc/variants/cpuinfo-arm64-grace"));
    expect(readSysInfo(join(root, "proc"))).toEqual({
      os: "Fedora Linux 40 (Server Edition)",
      kernel: null,
      cpuModel: "ARM Neoverse-V2",
      cpuCores: 4,
    });
  });

  test("missing files are unknown, not a failure", () => {
    expect(readSysInfo(join(tmp, "nothing", "proc"))).toEqual({ os: null, kernel: null, cpuModel: null, cpuCores: null });
  });
});

describe("sysinfoCollector", () => {
  test("reads once and keeps the answer", () => {
    const root = join(tmp, "cached");
    mkdirSync(join(root, "proc/sys/kernel"), { recursive: true });
    writeFileSync(join(root, "proc/sys/kernel/osrelease"), "6.8.0-45-generic\n");
    const collector = sysinfoCollector();
    expect(collector.collect(ctx(join(root, "proc")))).toMatchObject({ kernel: "6.8.0-45-generic" });
    writeFileSync(join(root, "proc/sys/kernel/osrelease"), "6.9.0\n");
    expect(collector.collect(ctx(join(root, "proc")))).toMatchObject({ kernel: "6.8.0-45-generic" });
  });

  test("a failed read is not kept: the next collection tries again", () => {
    const root = join(tmp, "retry");
    mkdirSync(join(root, "proc/cpuinfo"), { recursive: true }); // a directory: EISDIR
    const collector = sysinfoCollector();
    expect(() => collector.collect(ctx(join(root, "proc")))).toThrow(`failed to read ${join(root, "proc/cpuinfo")}: EISDIR`);
    rmSync(join(root, "proc/cpuinfo"), { recursive: true });
    writeFileSync(join(root, "proc/cpuinfo"), "processor\t: 0\nmodel name\t: AMD EPYC 9654 96-Core Processor\n");
    expect(collector.collect(ctx(join(root, "proc")))).toEqual({
      os: null,
      kernel: null,
      cpuModel: "AMD EPYC 9654 96-Core Processor",
      cpuCores: 1,
    });
  });
});
