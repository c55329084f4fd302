import { describe, expect, test } from "bun:test";
import { checkSample } from "./sample.ts";
import { makeSample } from "../../test/fixtures/samples.ts";

describe("checkSample", () => {
  test("accepts the design card's sample", () => {
    const r = checkSample(JSON.parse(JSON.stringify(makeSample(812))));
    expect(r.ok).toBe(true);
  });

  test("names the offending field of a malformed sample", () => {
    const bad = makeSample(1) as unknown as { gpus: { temperature: unknown }[] };
    bad.gpus[1]!.temperature = "hot";
    const r = checkSample(bad);
    expect(r).toEqual({ ok: false, error: expect.stringContaining("/gpus/1/temperature") });
  });

  test("refuses a missing field, a bad timestamp, a negative seq and a non-object", () => {
    const noHost = { ...makeSample(1), host: undefined };
    expect(checkSample(noHost).ok).toBe(false);
    expect(checkSample({ ...makeSample(1), ts: "yesterday at noon" })).toEqual({ ok: false, error: "/ts: not a timestamp" });
    expect(checkSample({ ...makeSample(1), seq: -1 }).ok).toBe(false);
    expect(checkSample("hello").ok).toBe(false);
    expect(checkSample(null).ok).toBe(false);
  });

  test("null means unsupported and is accepted for every vital", () => {
    const s = makeSample(1);
    s.host.cpuPercent = null;
    s.gpus[0]!.fanSpeed = null;
    s.gpus[0]!.powerUsage = null;
    expect(checkSample(s).ok).toBe(true);
  });

  test("bounds lists so one payload cannot exhaust the head", () => {
    const s = makeSample(1, { gpus: 65 });
    expect(checkSample(s).ok).toBe(false);
  });
});
