// A labelled horizontal gauge (a <meter>-like bar) coloured by threshold level; "N/A" when the device does not report the value.
import Html from "@kitajs/html";
import { levelOf, type Threshold } from "../../src/alerts/thresholds.ts";
import { NA } from "./format.ts";

export interface GaugeProps {
  label: string;
  /** 0..100: where the bar ends. */
  percent: number | null | undefined;
  /** What is written: "71 °C", "39.1 / 80 GiB". */
  text: string;
  /** The value compared with the threshold (defaults to percent). */
  value?: number | null;
  threshold: Threshold;
}

export function Gauge(props: GaugeProps): JSX.Element {
  const level = levelOf(props.value === undefined ? props.percent : props.value, props.threshold);
  const pct = props.percent === null || props.percent === undefined ? null : Math.max(0, Math.min(100, props.percent));
  // A width class in 5 % steps instead of a style attribute: the CSP forbids inline styles.
  const step = pct === null ? 0 : Math.round(pct / 5) * 5;
  const title = `${props.label}: ${pct === null ? NA : props.text}${level === "warning" ? " (warning)" : level === "critical" ? " (critical)" : ""}`;
  return (
    <div class={`gauge level-${level}`} role="meter" aria-valuenow={pct === null ? undefined : String(Math.round(pct))} aria-label={title}>
      <span class="gauge-label" safe>
        {props.label}
      </span>
      <span class="gauge-track">
        <span class={`gauge-fill w${step}`}></span>
      </span>
      <span class="gauge-text" safe>
        {pct === null ? NA : props.text}
      </span>
    </div>
  );
}

/** A sparkline of recent values (0..100) as an inline SVG polyline: no script, so it works as a static snapshot too. */
export function Sparkline(props: { values: readonly (number | null)[]; label: string; max?: number }): JSX.Element {
  const w = 120;
  const h = 24;
  const max = props.max ?? 100;
  const n = props.values.length;
  const pts = props.values
    .map((v, i) =>
      v === null ? null : `${n <= 1 ? w : ((i / (n - 1)) * w).toFixed(1)},${(h - (Math.max(0, Math.min(max, v)) / max) * h).toFixed(1)}`,
    )
    .filter((p): p is string => p !== null)
    .join(" ");
  return (
    <svg class="sparkline" viewBox={`0 0 ${w} ${h}`} width={String(w)} height={String(h)} role="img" aria-label={props.label}>
      <title safe>{props.label}</title>
      {pts ? <polyline points={pts} fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke" /> : ""}
    </svg>
  );
}
