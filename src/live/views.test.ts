// View names resolve to their regions; anything else is refused; events dirty only the regions that show them.
import { describe, expect, test } from "bun:test";
import { VIEWS } from "./registry.ts";
import { checkRegions, dirties, plainView, resolveView, UnknownView, workerView, type Region } from "./views.ts";

const region = (id: string, over: Partial<Region> = {}): Region => ({ id, on: ["sample"], render: () => `<p id="${id}"></p>`, ...over });

describe("resolveView", () => {
  test("the registry's views", () => {
    expect(resolveView(VIEWS, "fleet").map((r) => r.id)).toEqual(["fleet-status", "free-gpus", "fleet"]);
    // A filtered, sorted fleet page streams its own view; a bad sort is no view at all.
    expect(resolveView(VIEWS, "fleet:load:a100").map((r) => r.id)).toEqual(["fleet-status", "free-gpus", "fleet"]);
    expect(() => resolveView(VIEWS, "fleet:sideways:x")).toThrow(/unknown view/);
    expect(resolveView(VIEWS, "worker:7").map((r) => r.id)).toContain("fleet-status");
  });

  test("unknown names, parameters where none belong, bad worker ids", () => {
    for (const name of [
      "",
      "nope",
      "fleet:1",
      "worker",
      "worker:",
      "worker:0",
      "worker:-1",
      "worker:abc",
      "worker:1e3",
      "constructor",
      "__proto__",
      "toString",
    ]) {
      expect(() => resolveView(VIEWS, name)).toThrow(UnknownView);
    }
    expect(() => resolveView(VIEWS, "nope")).toThrow("views: fleet, worker:<id>");
    expect(() => resolveView(VIEWS, "x".repeat(10_000))).toThrow(UnknownView);
  });

  test("a parametrised view gets its parameter", () => {
    const views = { w: workerView((id) => [region(`w-${id}`, { workerId: id })]), p: plainView(() => [region("p")]) };
    expect(resolveView(views, "w:42")[0]).toMatchObject({ id: "w-42", workerId: 42 });
    expect(resolveView(views, "p")[0]!.id).toBe("p");
  });

  test("registry mistakes fail loudly: duplicate ids, ids that are not plain selectors", () => {
    expect(() => checkRegions("v", [region("a"), region("a")])).toThrow("two regions with id a");
    for (const id of ["", "1a", "a b", "a.b", 'a"b', "#a"]) expect(() => checkRegions("v", [region(id)])).toThrow("not a plain DOM id");
  });
});

describe("dirties", () => {
  test("by topic, and for a worker's region only by events about that worker", () => {
    const any = region("any", { on: ["sample", "workers"] });
    const mine = region("mine", { on: ["sample", "restart", "workers"], workerId: 7 });
    expect(dirties(any, { topic: "sample", workerId: 1 })).toBe(true);
    expect(dirties(any, { topic: "restart", workerId: 1 })).toBe(false);
    expect(dirties(mine, { topic: "sample", workerId: 1 })).toBe(false);
    expect(dirties(mine, { topic: "sample", workerId: 7 })).toBe(true);
    expect(dirties(mine, { topic: "restart", workerId: 7 })).toBe(true);
    expect(dirties(mine, { topic: "workers", workerIds: [3, 7] })).toBe(true);
    expect(dirties(mine, { topic: "workers", workerIds: [3] })).toBe(false);
  });
});
