// Checks the clock event / throttle reason names against nvml.h's bit values.
import { expect, test } from "bun:test";
import { decodeThrottleReasons, THROTTLE_REASONS } from "./throttle.ts";

test("each nvml.h bit has its name", () => {
  expect(Object.fromEntries(THROTTLE_REASONS.map(([bit, name]) => [name, bit]))).toEqual({
    gpu_idle: 0x1,
    applications_clocks_setting: 0x2,
    sw_power_cap: 0x4,
    hw_slowdown: 0x8,
    sync_boost: 0x10,
    sw_thermal_slowdown: 0x20,
    hw_thermal_slowdown: 0x40,
    hw_power_brake_slowdown: 0x80,
    display_clock_setting: 0x100,
  });
  for (const [bit, name] of THROTTLE_REASONS) expect(decodeThrottleReasons(bit)).toEqual([name]);
});

test("no bit set is no reason", () => {
  expect(decodeThrottleReasons(0, 0)).toEqual([]);
});

test("several reasons come out in bit order", () => {
  expect(decodeThrottleReasons(0x4 | 0x40 | 0x8 | 0x80 | 0x20)).toEqual([
    "sw_power_cap",
    "hw_slowdown",
    "sw_thermal_slowdown",
    "hw_thermal_slowdown",
    "hw_power_brake_slowdown",
  ]);
});

test("bits newer than Vigil are kept by number, in both words", () => {
  expect(decodeThrottleReasons(0x1000 | 0x1, 0x80000001)).toEqual(["gpu_idle", "unknown_bit_12", "unknown_bit_32", "unknown_bit_63"]);
  expect(decodeThrottleReasons(0x80000000)).toEqual(["unknown_bit_31"]);
});
