// Reads /metrics output the way Prometheus would: a real exposition parser, strict structure checks, and promtool when installed.
import parsePrometheusTextFormat, { type ParsedFamily, type ParsedSample } from "parse-prometheus-text-format";

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * promtool's lint findings that come from matching other exporters' names on purpose: dcgm-exporter's
 * `modelName` label and its upper-case *_TOTAL counters, node_exporter's node_memory_MemTotal_bytes family.
 * Anything else it reports is a problem of ours.
 */
const ACCEPTED_LINT = [
  /^(DCGM_FI_\w+|vigil_gpu_lost) label names should be written in 'snake_case' not 'camelCase'$/,
  /^DCGM_FI_\w+_TOTAL counter metrics should have "_total" suffix$/,
  /^node_memory_\w+_bytes metric names should be written in 'snake_case' not 'camelCase'$/,
];

export interface CheckedExposition {
  families: Map<string, ParsedFamily>;
  /** The samples of a family whose labels include all of `match` (none when the family is absent). */
  samples(name: string, match?: Record<string, string>): ParsedSample[];
  /** The one sample's value as a number; throws unless exactly one sample matches. */
  value(name: string, match?: Record<string, string>): number;
  /** Whether promtool (Prometheus's own parser) checked the text too. */
  promtool: boolean;
}

/** Parses the text and throws one error listing every way it departs from the text format or from Vigil's rules. */
export function checkExposition(text: string): CheckedExposition {
  const problems = structureProblems(text);
  let parsed: ParsedFamily[] = [];
  try {
    parsed = parsePrometheusTextFormat(text);
  } catch (err) {
    problems.push(`parser: ${(err as Error).message}`);
  }
  const families = new Map<string, ParsedFamily>();
  let parsedSamples = 0;
  for (const f of parsed) {
    if (families.has(f.name)) problems.push(`family ${f.name} appears twice`);
    families.set(f.name, f);
    if (f.type !== "GAUGE" && f.type !== "COUNTER") problems.push(`family ${f.name} has type ${f.type}`);
    if (!f.help) problems.push(`family ${f.name} has no HELP`);
    const seen = new Set<string>();
    for (const s of f.metrics) {
      parsedSamples++;
      if (!/^-?\d+(\.\d+)?(e[+-]?\d+)?$/.test(s.value)) problems.push(`${f.name}: value ${JSON.stringify(s.value)} is not a finite number`);
      if (s.timestamp_ms !== undefined) problems.push(`${f.name}: sample carries a timestamp`);
      for (const key of Object.keys(s.labels ?? {}))
        if (!LABEL_NAME.test(key)) problems.push(`${f.name}: label name ${JSON.stringify(key)}`);
      const key = JSON.stringify(Object.entries(s.labels ?? {}).sort(([a], [b]) => a.localeCompare(b)));
      if (seen.has(key)) problems.push(`${f.name}: duplicate series ${key}`);
      seen.add(key);
    }
  }
  // A line the parser read differently from the structure check (merged, or split by a raw newline) shows here.
  const sampleLines = text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;
  if (parsedSamples !== sampleLines) problems.push(`${sampleLines} sample lines but the parser read ${parsedSamples} samples`);
  const promtool = Bun.which("promtool");
  if (promtool) problems.push(...promtoolProblems(promtool, text));
  if (problems.length) throw new Error(`invalid exposition:\n  ${problems.join("\n  ")}`);

  const samples = (name: string, match: Record<string, string> = {}) =>
    (families.get(name)?.metrics ?? []).filter((s) => Object.entries(match).every(([k, v]) => s.labels?.[k] === v));
  return {
    families,
    samples,
    value(name, match) {
      const found = samples(name, match);
      if (found.length !== 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(match ?? {})}`);
      return Number(found[0]!.value);
    },
    promtool: promtool !== null,
  };
}

/** Line by line, independent of the parser: HELP then TYPE once per family, its samples right after, nothing else. */
function structureProblems(text: string): string[] {
  const problems: string[] = [];
  if (text !== "" && !text.endsWith("\n")) problems.push("the text does not end with a newline");
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const declared = new Set<string>();
  // Raw series text: the parser merges adjacent lines with equal labels, so it alone would miss such a duplicate.
  const series = new Set<string>();
  let current: string | undefined;
  let typed = false;
  let samples = 0;
  for (const [i, line] of lines.entries()) {
    const at = `line ${i + 1}`;
    const help = /^# HELP (\S+) (.+)$/.exec(line);
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (help) {
      if (current !== undefined && samples === 0) problems.push(`${at}: family ${current} has no samples`);
      if (declared.has(help[1]!)) problems.push(`${at}: second HELP for ${help[1]}`);
      declared.add(help[1]!);
      current = help[1];
      typed = false;
      samples = 0;
    } else if (type) {
      if (type[1] !== current || typed || samples > 0) problems.push(`${at}: TYPE for ${type[1]} not right after its HELP`);
      if (type[2] !== "gauge" && type[2] !== "counter") problems.push(`${at}: type ${type[2]}`);
      typed = true;
    } else if (line.startsWith("#") || line === "") {
      problems.push(`${at}: unexpected ${JSON.stringify(line)}`);
    } else {
      const name = /^[^{ ]*/.exec(line)![0];
      if (name !== current || !typed) problems.push(`${at}: sample of ${JSON.stringify(name)} outside its family's block`);
      const key = line.slice(0, line.lastIndexOf(" "));
      if (series.has(key)) problems.push(`${at}: duplicate series ${key}`);
      series.add(key);
      samples++;
    }
  }
  if (current !== undefined && samples === 0) problems.push(`family ${current} has no samples`);
  return problems;
}

function promtoolProblems(promtool: string, text: string): string[] {
  const run = Bun.spawnSync([promtool, "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
  const output = `${run.stdout.toString()}\n${run.stderr.toString()}`
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  // Exit 3 means lint findings only; anything else non-zero is a parse error.
  if (run.exitCode !== 0 && run.exitCode !== 3) return [`promtool exited ${run.exitCode}: ${output.join(" | ")}`];
  return output.filter((l) => !ACCEPTED_LINT.some((re) => re.test(l))).map((l) => `promtool: ${l}`);
}
