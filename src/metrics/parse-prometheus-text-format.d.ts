// Types for the test-only exposition parser (the package ships none): the prom2json-shaped result, gauges and counters only.
declare module "parse-prometheus-text-format" {
  export interface ParsedSample {
    value: string;
    labels?: Record<string, string>;
    timestamp_ms?: string;
  }
  export interface ParsedFamily {
    name: string;
    help: string;
    /** Upper case: "GAUGE", "COUNTER", "UNTYPED", ... */
    type: string;
    metrics: ParsedSample[];
  }
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
