// Checks structs.ts against the layout the C compiler gives the same declarations (the fake's copy of nvml.h).
import { beforeAll, expect, test } from "bun:test";
import { fakeNvml, type FakeNvml } from "../../../test/fake-nvml/hooks.ts";
import {
  FIELD_VALUE,
  isNotAvailable,
  MEMORY_V1,
  MEMORY_V2,
  MEMORY_V2_VERSION,
  PCI_INFO,
  PROCESS_V1,
  PROCESS_V2,
  readCString,
  readU64,
  UTILIZATION,
} from "./structs.ts";

let fake: FakeNvml;
beforeAll(async () => {
  fake = await fakeNvml("full");
});

/** Every offset in a structs.ts table, checked against offsetof() of the C struct (and "size" against sizeof). */
function expectLayout(cName: string, table: Record<string, number>, notFields: string[] = []) {
  for (const [field, value] of Object.entries(table)) {
    if (notFields.includes(field)) continue;
    const what = field === "size" ? cName : `${cName}.${field}`;
    expect({ what, value }).toEqual({ what, value: fake.layout(what) });
  }
}

test("struct sizes and offsets match the C compiler's", () => {
  expectLayout("nvmlMemory_t", MEMORY_V1);
  expectLayout("nvmlMemory_v2_t", MEMORY_V2);
  expectLayout("nvmlUtilization_t", UTILIZATION);
  expectLayout("nvmlProcessInfo_v1_t", PROCESS_V1);
  expectLayout("nvmlProcessInfo_t", PROCESS_V2);
  expectLayout("nvmlPciInfo_t", PCI_INFO, ["busIdLength"]);
  expectLayout("nvmlFieldValue_t", FIELD_VALUE);
});

test("nvmlMemory_v2 is sizeof | 2 << 24 = 0x02000028", () => {
  expect(MEMORY_V2_VERSION).toBe(0x02000028);
  expect(fake.layout("nvmlMemory_v2")).toBe(MEMORY_V2_VERSION);
});

test("readU64 joins two little-endian words, beyond 2^32", () => {
  const words = new Uint32Array(new BigUint64Array([0n, 4294967301n, 85520809984n]).buffer);
  expect(readU64(words, 0)).toBe(0);
  expect(readU64(words, 8)).toBe(4294967301);
  expect(readU64(words, 16)).toBe(85520809984);
});

test("NVML_VALUE_NOT_AVAILABLE is every bit set", () => {
  const words = new Uint32Array(new BigUint64Array([0xffffffffffffffffn, 0xffffffffn]).buffer);
  expect(isNotAvailable(words, 0)).toBe(true);
  expect(isNotAvailable(words, 8)).toBe(false);
});

test("readCString stops at the NUL and at the field's end", () => {
  const bytes = new Uint8Array(40);
  bytes.set(new TextEncoder().encode("00000000:18:00.0"), 4);
  expect(readCString(bytes, 4, 32)).toBe("00000000:18:00.0");
  bytes.fill(0x41, 0, 40);
  expect(readCString(bytes, 0, 8)).toBe("AAAAAAAA");
  expect(readCString(new Uint8Array(8))).toBe("");
});
