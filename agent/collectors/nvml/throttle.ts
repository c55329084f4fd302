// Names for the bits of NVML's clock event (formerly "throttle") reason mask, as the sample's throttleReasons carries them.

/**
 * Bit values of nvmlClocksEventReason* / nvmlClocksThrottleReason* in nvml.h (the two families share their values;
 * NVML 12.2 renamed "throttle" to "event" because idle and application clocks are not slowdowns).
 */
export const THROTTLE_REASONS: readonly (readonly [bit: number, name: string])[] = [
  [0x1, "gpu_idle"], // nvmlClocksEventReasonGpuIdle
  [0x2, "applications_clocks_setting"], // nvmlClocksEventReasonApplicationsClocksSetting
  [0x4, "sw_power_cap"], // nvmlClocksEventReasonSwPowerCap
  [0x8, "hw_slowdown"], // nvmlClocksThrottleReasonHwSlowdown
  [0x10, "sync_boost"], // nvmlClocksEventReasonSyncBoost
  [0x20, "sw_thermal_slowdown"], // nvmlClocksEventReasonSwThermalSlowdown
  [0x40, "hw_thermal_slowdown"], // nvmlClocksThrottleReasonHwThermalSlowdown
  [0x80, "hw_power_brake_slowdown"], // nvmlClocksThrottleReasonHwPowerBrakeSlowdown
  [0x100, "display_clock_setting"], // nvmlClocksEventReasonDisplayClockSetting
];

const KNOWN = THROTTLE_REASONS.reduce((mask, [bit]) => mask | bit, 0);

/**
 * The names of the bits set in the 64-bit mask given as its low and high u32 words, in bit order. A bit a newer
 * driver defines that Vigil does not know yet is kept as "unknown_bit_N" rather than dropped.
 */
export function decodeThrottleReasons(low: number, high = 0): string[] {
  const names: string[] = [];
  if (low === 0 && high === 0) return names;
  for (const [bit, name] of THROTTLE_REASONS) if (low & bit) names.push(name);
  const unknownLow = (low & ~KNOWN) >>> 0;
  for (let n = 0; n < 32; n++) if (unknownLow & (1 << n)) names.push(`unknown_bit_${n}`);
  for (let n = 0; n < 32; n++) if (high & (1 << n)) names.push(`unknown_bit_${n + 32}`);
  return names;
}
