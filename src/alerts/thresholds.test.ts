// The gauges take their colours from the alert rules that apply to the worker (and GPU), falling back to the defaults.
import { expect, test } from "bun:test";
import { DEFAULT_THRESHOLDS, dashboardThresholds } from "./thresholds.ts";
import { RuleSet, type ThresholdRule } from "./rules.ts";

const rule = (o: Partial<ThresholdRule>): ThresholdRule => ({
  id: 1,
  metric: "temperature",
  scope: "global",
  workerId: null,
  gpuUuid: null,
  direction: "above",
  warning: 70,
  critical: 85,
  hysteresis: 0,
  forSeconds: 0,
  enabled: true,
  ...o,
});

test("the seeded global rules colour every worker; a worker's override colours that worker only", () => {
  const rules = new RuleSet([
    rule({}),
    rule({ id: 2, metric: "utilization", warning: 95, critical: 99 }),
    rule({ id: 3, scope: "worker:7", workerId: 7, warning: 60, critical: 65 }),
  ]);
  expect(dashboardThresholds(rules, 1)).toEqual({
    ...DEFAULT_THRESHOLDS,
    temperature: { warning: 70, critical: 85 },
    utilization: { warning: 95, critical: 99 },
  });
  expect(dashboardThresholds(rules, 7).temperature).toEqual({ warning: 60, critical: 65 });
});

test("disabled, below and level-less rules leave the defaults; a missing level never colours", () => {
  const rules = new RuleSet([
    rule({ enabled: false }),
    rule({ id: 2, metric: "utilization", direction: "below", warning: 10, critical: 5 }),
    rule({ id: 3, metric: "memoryPercent", warning: null, critical: 97 }),
  ]);
  const t = dashboardThresholds(rules, 1);
  expect(t.temperature).toEqual(DEFAULT_THRESHOLDS.temperature);
  expect(t.utilization).toEqual(DEFAULT_THRESHOLDS.utilization);
  expect(t.memoryPercent).toEqual({ warning: 97, critical: 97 });
});
