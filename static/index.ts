// The browser's files, served under /static out of the binary: vendored libraries (pinned by bun.lock) and our small glue.
import { readFileSync } from "node:fs";
import pico from "@picocss/pico/css/pico.min.css" with { type: "file" };
import htmx from "htmx.org/dist/htmx.min.js" with { type: "file" };
import htmxSse from "htmx.org/dist/ext/hx-sse.min.js" with { type: "file" };
import alpine from "alpinejs/dist/cdn.min.js" with { type: "file" };
import uplot from "uplot/dist/uPlot.iife.min.js" with { type: "file" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "file" };
import vigilCss from "./vigil.css" with { type: "file" };
import liveJs from "./live.js" with { type: "file" };
import dashboardCss from "./dashboard.css" with { type: "file" };
import themeJs from "./theme.js" with { type: "file" };
import workerCss from "./worker.css" with { type: "file" };
import chartsJs from "./charts.js" with { type: "file" };
import alertsCss from "./alerts.css" with { type: "file" };
import healthCss from "./health.css" with { type: "file" };
import kindFieldsJs from "./kind-fields.js" with { type: "file" };

export interface StaticAsset {
  /** Path inside the binary (or on disk when run from source). */
  file: string;
  type: string;
}

const css = "text/css; charset=utf-8";
const js = "text/javascript; charset=utf-8";

/** URL name under /static/ -> file. Adding an asset is one import and one line here. */
export const STATIC_ASSETS: Record<string, StaticAsset> = {
  "pico.min.css": { file: pico, type: css },
  "htmx.min.js": { file: htmx, type: js },
  "hx-sse.min.js": { file: htmxSse, type: js },
  "alpine.min.js": { file: alpine, type: js },
  "uPlot.min.js": { file: uplot, type: js },
  "uPlot.min.css": { file: uplotCss, type: css },
  "vigil.css": { file: vigilCss, type: css },
  "live.js": { file: liveJs, type: js },
  "dashboard.css": { file: dashboardCss, type: css },
  "theme.js": { file: themeJs, type: js },
  "worker.css": { file: workerCss, type: css },
  "charts.js": { file: chartsJs, type: js },
  "alerts.css": { file: alertsCss, type: css },
  "health.css": { file: healthCss, type: css },
  "kind-fields.js": { file: kindFieldsJs, type: js },
};

const hashes = new Map<string, string>();

/** A short content hash of the asset (computed once): its URL changes exactly when its bytes do. */
export function assetHash(name: string): string {
  let h = hashes.get(name);
  if (h === undefined) {
    const asset = STATIC_ASSETS[name];
    if (!asset) throw new Error(`no static asset named ${name}`);
    h = new Bun.CryptoHasher("sha256").update(readFileSync(asset.file)).digest("hex").slice(0, 12);
    hashes.set(name, h);
  }
  return h;
}

/** The URL pages link to: `/static/NAME?v=HASH`, cached for a year by browsers since the hash changes with the content. */
export function assetUrl(name: string): string {
  return `/static/${name}?v=${assetHash(name)}`;
}
