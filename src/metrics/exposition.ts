// The Prometheus text exposition format (version 0.0.4): families with HELP and TYPE once each, escaped labels, no duplicate series.

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type MetricType = "gauge" | "counter";

/** A label whose value is null or undefined is left out (Prometheus reads an empty label as an absent one anyway). */
export type Labels = Readonly<Record<string, string | number | null | undefined>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label values come from agents (hostnames, GPU names): backslash, double quote and newline must not end the value early. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text escapes only backslash and newline (a quote is plain text there). */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** Go's ParseFloat, which Prometheus uses, reads JavaScript's shortest round-trip form; only the non-finite values differ. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

export interface Family {
  /** Adds one series; a null or undefined value (a vital the device does not report) adds nothing, never a 0. */
  add(labels: Labels, value: number | null | undefined): void;
}

interface FamilyState {
  name: string;
  type: MetricType;
  help: string;
  /** Series lines by their label block, which is also how a duplicate is recognised. */
  series: Map<string, string>;
}

/**
 * Collects families, then renders them. Names and label names come from Vigil's code, so a bad one is a bug
 * and throws; values and label values come from agents and are escaped.
 */
export class Exposition {
  private families = new Map<string, FamilyState>();

  /** Declares a family (again is fine with the same type and help, so two providers may share one). */
  family(name: string, type: MetricType, help: string): Family {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    let state = this.families.get(name);
    if (!state) {
      state = { name, type, help, series: new Map() };
      this.families.set(name, state);
    } else if (state.type !== type || state.help !== help) {
      throw new Error(`metric family ${name} declared twice with a different type or help`);
    }
    const series = state.series;
    return {
      add(labels, value) {
        if (value === null || value === undefined) return;
        const block = labelBlock(labels);
        // An agent may report two GPUs with one index and UUID: the first is kept, since a duplicate series
        // makes Prometheus drop samples of the scrape.
        if (series.has(block)) return;
        series.set(block, `${name}${block} ${formatValue(value)}\n`);
      },
    };
  }

  /** The exposition text; families without a series are left out. */
  render(): string {
    let out = "";
    for (const f of this.families.values()) {
      if (f.series.size === 0) continue;
      out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
      for (const line of f.series.values()) out += line;
    }
    return out;
  }
}

function labelBlock(labels: Labels): string {
  const parts: string[] = [];
  for (const [key, raw] of Object.entries(labels)) {
    if (raw === null || raw === undefined) continue;
    if (!LABEL_NAME.test(key) || key.startsWith("__")) throw new Error(`invalid label name ${JSON.stringify(key)}`);
    parts.push(`${key}="${escapeLabelValue(String(raw))}"`);
  }
  return parts.length ? `{${parts.join(",")}}` : "";
}
