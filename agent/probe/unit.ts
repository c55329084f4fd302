// The unit probe: a systemd unit's load and active state, from `systemctl show` run with an argv array.
import type { ProbeResult } from "../../src/protocol/messages.ts";
import { unitNameProblem } from "../restart/allowlist.ts";
import type { ProbeContext } from "./context.ts";
import { runTool } from "./exec.ts";

export const UNIT_PROPERTIES = ["ActiveState", "SubState", "LoadState", "UnitFileState", "ActiveEnterTimestamp"] as const;

/** The `systemctl show` command line for a unit whose name was already validated. */
export function unitArgv(systemctl: string, unit: string): string[] {
  return [systemctl, "show", unit, `--property=${UNIT_PROPERTIES.join(",")}`, "--no-pager"];
}

/** "Mon 2026-11-23 10:00:01 UTC" (systemctl under TZ=UTC) as ISO 8601; null for anything else. */
export function utcTimestamp(text: string): string | null {
  const m = /^\w{3} (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC$/.exec(text);
  if (!m) return null;
  const t = Date.parse(`${m[1]}T${m[2]}Z`);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/**
 * The properties in `systemctl show` output ("Key=value" lines). Throws when ActiveState is missing:
 * systemctl prints it for every name, even a unit that does not exist (LoadState=not-found), so its
 * absence means the tool is not the systemctl we expect.
 */
export function parseUnitShow(unit: string, text: string): ProbeResult<"unit"> {
  const props = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) props.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const active = props.get("ActiveState");
  if (!active) throw new Error(`systemctl show ${unit} printed no ActiveState`);
  const clip = (v: string | undefined) => (v ?? "").slice(0, 64);
  const since = props.get("ActiveEnterTimestamp") || null;
  return {
    unit,
    loadState: clip(props.get("LoadState")),
    activeState: clip(active),
    subState: clip(props.get("SubState")),
    unitFileState: clip(props.get("UnitFileState")),
    activeEnterTimestamp: since === null ? null : since.slice(0, 128),
    activeSince: since === null ? null : utcTimestamp(since),
  };
}

/**
 * The unit a probe names, checked by the restart allow-list's rule (a name systemd accepts, never one
 * systemctl would read as an option). A name without a type gets ".service", as systemctl and
 * journalctl would give it themselves ("nvidia-persistenced"), so the name checked and shown is the
 * one the tool uses.
 */
export function probeUnitName(name: string): string {
  const completed = !name.includes(".") && unitNameProblem(`${name}.service`) === null ? `${name}.service` : name;
  const problem = unitNameProblem(completed);
  if (problem) throw new Error(`${JSON.stringify(name)} is not a valid unit name: ${problem}`);
  return completed;
}

export async function unitProbe(probe: { unit: string }, ctx: ProbeContext): Promise<ProbeResult<"unit">> {
  const unit = probeUnitName(probe.unit);
  const systemctl = ctx.settings.systemctl ?? "systemctl";
  // TZ=UTC so ActiveEnterTimestamp comes in a zone that can be read back without the worker's tz database.
  const out = await runTool(unitArgv(systemctl, unit), { timeoutMs: ctx.timeoutMs, maxBytes: 64 * 1024, env: { TZ: "UTC" } });
  if (out.code !== 0)
    throw new Error(`systemctl show ${unit} exited with ${out.code}${out.stderrLine ? `: ${out.stderrLine}` : " and printed nothing"}`);
  return parseUnitShow(unit, out.stdout);
}
