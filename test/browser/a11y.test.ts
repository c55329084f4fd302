// Accessibility of the fleet and worker pages in Chromium, both themes, desktop and phone: WCAG AA contrast of text and of
// gauge, sparkline and chart colours, keyboard reach, order and focus rings, names of icon buttons and charts, reduced motion.
import { afterAll, beforeAll, describe, test } from "bun:test";
import type { Page } from "playwright-core";
import { demoScenario } from "../../src/sim/demo.ts";
import { startBrowserFleet, THEMES, VIEWPORTS, waitUntil, type BrowserFleet, type Theme, type ViewportName } from "./harness.ts";

const WORKERS = 5;
const GPUS = 4;

let fleet: BrowserFleet;
/** The worker page shown: the demo's hot GPU, so critical levels are on screen. */
let workerPath: string;

beforeAll(async () => {
  fleet = await startBrowserFleet({ workers: WORKERS, gpus: GPUS });
  try {
    const hot = demoScenario(WORKERS, GPUS).hot!;
    const list = ((await (await fleet.api("/api/v1/workers")).json()) as { workers: { id: number; name: string }[] }).workers;
    workerPath = `/workers/${list.find((w) => w.name === fleet.workers[hot.worker])!.id}?gpu=${hot.gpu}`;
  } catch (err) {
    await fleet.stop();
    throw err;
  }
}, 120_000);
afterAll(() => fleet?.stop());

type Rgba = [number, number, number, number];

/** What installKit leaves on window: each check returns readable problem lines, empty when all is well. */
interface A11yKit {
  contrast(): string[];
  nonTextContrast(): string[];
  names(): string[];
  motion(): string[];
  /** Numbers every element Tab should reach (data-a11y-tab), in document order, and notes how each looks unfocused. */
  markTabbables(): { count: number; problems: string[] };
  /** The focused element: its number (-1: none, -2: not a marked element), what it is, and what is wrong with its focus ring. */
  focused(): { index: number; desc: string; inHeader: boolean; inMain: boolean; toggle: boolean; segmented: boolean; ring: string | null };
  describe(index: number): string;
}
type KitWindow = { __a11y: A11yKit };

/**
 * Runs in the page (serialized by page.evaluate, so self-contained). Colours are composited the way the page paints
 * them: each ancestor's background over the one below (a gradient gives one candidate per colour stop, the worst
 * counts), opacity groups over what lies behind them, gradient text (background-clip: text) judged by its stops.
 */
function installKit(): void {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  const parsed = new Map<string, Rgba>();
  const parse = (str: string): Rgba => {
    const s = str.trim();
    const hit = parsed.get(s);
    if (hit) return hit;
    let out: Rgba;
    const m = /^rgba?\(([^)]*)\)$/.exec(s);
    if (m) {
      const p = m[1]!
        .split(/[\s,/]+/)
        .filter(Boolean)
        .map((v) => (v.endsWith("%") ? parseFloat(v) / 100 : parseFloat(v)));
      out = [p[0]!, p[1]!, p[2]!, p[3] ?? 1];
    } else if (s === "transparent" || s === "") out = [0, 0, 0, 0];
    else {
      // Anything else (hex, color(), oklch()) the way the browser paints it.
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillStyle = "rgba(0, 0, 0, 0)";
      ctx.fillStyle = s;
      ctx.fillRect(0, 0, 1, 1);
      const d = ctx.getImageData(0, 0, 1, 1).data;
      out = [d[0]!, d[1]!, d[2]!, d[3]! / 255];
    }
    parsed.set(s, out);
    return out;
  };
  const over = (top: Rgba, under: Rgba): Rgba => {
    const a = top[3];
    return [top[0] * a + under[0] * (1 - a), top[1] * a + under[1] * (1 - a), top[2] * a + under[2] * (1 - a), 1];
  };
  const lum = (c: Rgba) => {
    const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a: Rgba, b: Rgba) => {
    const x = lum(a);
    const y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  const hex = (c: Rgba) =>
    "#" +
    c
      .slice(0, 3)
      .map((v) => Math.round(v).toString(16).padStart(2, "0"))
      .join("") +
    (c[3] < 1 ? `/${c[3].toFixed(2)}` : "");
  const COLOR = /rgba?\([^)]*\)|#[0-9a-fA-F]{3,8}\b|(?:color|oklch|oklab|lab|lch|hsla?)\([^)]*\)/g;
  const stopsOf = (image: string): Rgba[] => (image.includes("gradient(") ? (image.match(COLOR) ?? []).map(parse) : []);
  const uniq = (cs: Rgba[]) => [...new Map(cs.map((c) => [hex(c), c])).values()];
  const clipsText = (cs: CSSStyleDeclaration) => cs.backgroundClip === "text" || cs.getPropertyValue("-webkit-background-clip") === "text";
  /** The lib here has no DOM.Iterable: node lists become arrays. */
  const all = <E extends Element = Element>(selector: string, root: ParentNode = document): E[] =>
    Array.from(root.querySelectorAll<E>(selector));
  const visible = (el: Element) => el.checkVisibility({ opacityProperty: true, visibilityProperty: true });

  /** How an element reads in a report: up to three levels of tag.class, ids without their numbers. */
  const describe = (el: Element | null): string => {
    const parts: string[] = [];
    for (let e = el, i = 0; e && e !== document.body && i < 3; e = e.parentElement, i++) {
      const id = e.id && !/\d/.test(e.id) ? `#${e.id}` : "";
      const cls = Array.from(e.classList)
        .filter((c) => !/^w\d+$/.test(c))
        .slice(0, 3)
        .map((c) => `.${c}`)
        .join("");
      parts.unshift(e.tagName.toLowerCase() + id + cls);
    }
    return parts.join(" > ");
  };

  /** The colours behind `el` (its own background too unless `self` is false), and the opacity groups it sits in. */
  const backdrop = (el: Element, self = true) => {
    const chain: Element[] = [];
    for (let e: Element | null = self ? el : el.parentElement; e; e = e.parentElement) chain.unshift(e);
    let colors: Rgba[] = [[255, 255, 255, 1]];
    const groups: { behind: Rgba; opacity: number }[] = [];
    for (const e of chain) {
      const cs = getComputedStyle(e);
      const o = parseFloat(cs.opacity);
      if (o < 1) groups.push({ behind: colors[0]!, opacity: o });
      // Gradient text paints its background only inside the letters: not behind them.
      if (clipsText(cs)) continue;
      const bg = parse(cs.backgroundColor);
      if (bg[3] > 0) colors = colors.map((c) => over(bg, c));
      const stops = stopsOf(cs.backgroundImage);
      if (stops.length) colors = uniq(colors.flatMap((c) => stops.map((s) => over(s, c))));
    }
    return { colors, groups };
  };
  /** Every pair of (painted colour, background) a colour on `el`'s backdrop can make, opacity groups applied. */
  const pairs = (fgs: Rgba[], bd: ReturnType<typeof backdrop>) => {
    const out: { fg: Rgba; bg: Rgba; ratio: number }[] = [];
    for (const b of bd.colors)
      for (const f of fgs) {
        let fg = over(f, b);
        let bg = b;
        for (const g of [...bd.groups].reverse()) {
          fg = over([fg[0], fg[1], fg[2], g.opacity], g.behind);
          bg = over([bg[0], bg[1], bg[2], g.opacity], g.behind);
        }
        out.push({ fg, bg, ratio: ratio(fg, bg) });
      }
    return out.sort((a, b) => a.ratio - b.ratio);
  };

  /** Problems grouped by what they say, with how many elements say it. */
  const collector = () => {
    const lines = new Map<string, { n: number; example: string; states: Set<string> }>();
    return {
      /** `state`: the class a sweep lent the element, when the problem shows only in a state the data is not in now. */
      add(key: string, example = "", state = "") {
        const l = lines.get(key) ?? { n: 0, example, states: new Set<string>() };
        lines.set(key, l);
        l.n++;
        l.states.add(state);
      },
      list: () =>
        [...lines].map(
          ([k, v]) =>
            `${k}${v.example ? ` e.g. "${v.example}"` : ""}${v.n > 1 ? ` (×${v.n})` : ""}` +
            (v.states.has("") ? "" : ` [when ${[...v.states].join(", ")}]`),
        ),
    };
  };

  const checkText = (out: ReturnType<typeof collector>, el: Element, text: string, color: string, what = "", state = "") => {
    const cs = getComputedStyle(el);
    const size = parseFloat(cs.fontSize);
    const large = size >= 24 || (size >= 18.66 && parseInt(cs.fontWeight, 10) >= 700);
    // A glyph without letters or digits (◐, ·) is a symbol: the 3:1 of graphics.
    const symbol = !/[\p{L}\p{N}]/u.test(text);
    const need = large || symbol ? 3 : 4.5;
    let fgs = [parse(color)];
    if (clipsText(cs) && stopsOf(cs.backgroundImage).length) fgs = stopsOf(cs.backgroundImage);
    else if (fgs[0]![3] === 0) return;
    const worst = pairs(fgs, backdrop(el))[0]!;
    if (worst.ratio < need)
      out.add(
        `${describe(el)}${what}: ${hex(worst.fg)} on ${hex(worst.bg)} = ${worst.ratio.toFixed(2)}, needs ${need} (${size.toFixed(1)}px${large ? ", large" : ""})`,
        text.replace(/\s+/g, " ").slice(0, 40),
        state,
      );
  };

  /** Every visible text node under `root` (each element once), judged against what is behind it. */
  const textIn = (root: Element, out: ReturnType<typeof collector>, state = "") => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const done = new Set<Element>();
    const range = document.createRange();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.nodeValue?.trim();
      const el = n.parentElement;
      if (!text || !el || done.has(el)) continue;
      // Form controls are judged by what they show (kit.contrast).
      if (el.closest("script, style, noscript, template, title, select, textarea")) continue;
      done.add(el);
      if (!visible(el) || el.closest(":disabled, [aria-disabled=true]")) continue;
      range.selectNodeContents(n);
      if (!Array.from(range.getClientRects()).some((r) => r.width > 1 && r.height > 1)) continue;
      checkText(out, el, text, getComputedStyle(el).color, "", state);
    }
  };

  const kit: A11yKit = {
    contrast() {
      const out = collector();
      textIn(document.body, out);
      // The "live updates paused" banner, shown as when the stream drops.
      const banner = document.getElementById("live-banner");
      if (banner?.hidden) {
        banner.hidden = false;
        try {
          textIn(banner, out, "shown");
        } finally {
          banner.hidden = true;
        }
      }
      // Every state a status, level or card can be in, not only those the data shows now: one element of each kind
      // takes each class in turn (synchronously, so nothing is painted), then gets its own back.
      const sweeps: [string, RegExp, string[]][] = [
        [".worker-card", /^card-/, ["card-ok", "card-warning", "card-critical", "card-offline", "card-unknown"]],
        ['[class*="status-"]', /^status-/, ["status-online", "status-stale", "status-offline", "status-never-seen"]],
        ['.worker-page [class*="level-"]:not(.gauge)', /^level-/, ["level-ok", "level-warning", "level-critical", "level-unknown"]],
        [".vitals", /^is-stale$/, ["is-stale"]],
      ];
      for (const [selector, prefix, variants] of sweeps) {
        const kinds = new Map<string, Element>();
        for (const el of all(selector)) {
          const key = describe(el).replace(new RegExp(`\\.${prefix.source.slice(1)}[\\w-]+`, "g"), "");
          if (!kinds.has(key) && visible(el)) kinds.set(key, el);
        }
        for (const el of kinds.values()) {
          const was = el.className;
          try {
            for (const v of variants) {
              el.className = Array.from(el.classList)
                .filter((c) => !prefix.test(c))
                .concat(v)
                .join(" ");
              textIn(el, out, `.${v}`);
            }
          } finally {
            el.className = was;
          }
        }
      }
      for (const el of all<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>("input, select, textarea")) {
        if (!visible(el) || el.disabled || /^(hidden|checkbox|radio|range|color|file|submit|button|reset)$/.test(el.type)) continue;
        if (el instanceof HTMLSelectElement) checkText(out, el, el.selectedOptions[0]?.text ?? "", getComputedStyle(el).color);
        else if (el.value) checkText(out, el, el.value, getComputedStyle(el).color);
        else if (el.placeholder) checkText(out, el, el.placeholder, getComputedStyle(el, "::placeholder").color, "::placeholder");
        // An empty date field shows its parts (dd/mm/yyyy) in the field's colour.
        else if (/date|time/.test(el.type)) checkText(out, el, "dd/mm/yyyy", getComputedStyle(el).color);
      }
      return out.list();
    },

    nonTextContrast() {
      const out = collector();
      const worstOf = (fg: Rgba, el: Element, self = true) => pairs([fg], backdrop(el, self))[0]!;
      const need3 = (what: string, fg: Rgba, el: Element, self = true) => {
        const w = worstOf(fg, el, self);
        if (w.ratio < 3) out.add(`${what}: ${hex(w.fg)} on ${hex(w.bg)} = ${w.ratio.toFixed(2)}, needs 3`);
      };
      // Gauges: each level's fill against its track and its text against the box, whatever levels the data shows now
      // (every kind of place a gauge sits is tried with ok, warning and critical, then put back).
      const places = new Map<string, HTMLElement>();
      for (const g of all<HTMLElement>(".gauge")) {
        const key = describe(g.parentElement);
        if (!places.has(key) && visible(g)) places.set(key, g);
      }
      for (const [place, g] of places) {
        const was = g.className;
        try {
          for (const level of ["ok", "warning", "critical"]) {
            g.className = `gauge level-${level}`;
            const fill = g.querySelector(".gauge-fill");
            const track = g.querySelector(".gauge-track");
            const text = g.querySelector(".gauge-text");
            if (fill && track)
              need3(
                `${place} > .gauge.level-${level} > .gauge-fill: against its track`,
                parse(getComputedStyle(fill).backgroundColor),
                track,
              );
            if (text) checkText(out, text, `${level} 42`, getComputedStyle(text).color, "", `.level-${level}`);
          }
        } finally {
          g.className = was;
        }
      }
      for (const s of all(".sparkline"))
        if (visible(s)) need3(`${describe(s)}: sparkline stroke`, parse(getComputedStyle(s).color), s, false);
      // Charts draw on a canvas with colours read from these variables (static/charts.js).
      for (const fig of all<HTMLElement>("figure.chart")) {
        if (!visible(fig)) continue;
        const plot = fig.querySelector(".chart-plot") ?? fig;
        const v = (name: string) => parse(getComputedStyle(fig).getPropertyValue(name) || "transparent");
        need3(`${describe(fig)}: average line (--worker-chart-avg)`, v("--worker-chart-avg"), plot);
        need3(`${describe(fig)}: warning line (--worker-text-warn)`, v("--worker-text-warn"), plot);
        need3(`${describe(fig)}: critical line (--worker-text-crit)`, v("--worker-text-crit"), plot);
        const axis = worstOf(v("--pico-muted-color"), plot);
        if (axis.ratio < 4.5)
          out.add(
            `${describe(fig)}: axis labels (--pico-muted-color): ${hex(axis.fg)} on ${hex(axis.bg)} = ${axis.ratio.toFixed(2)}, needs 4.5`,
          );
      }
      // Where a form field is: its border, or its own background, against what surrounds it.
      for (const el of all<HTMLElement>("input, select, textarea")) {
        if (!visible(el) || (el as HTMLInputElement).disabled || (el as HTMLInputElement).type === "hidden") continue;
        const cs = getComputedStyle(el);
        const outside = backdrop(el, false);
        const border = parseFloat(cs.borderTopWidth) > 0 ? pairs([parse(cs.borderTopColor)], outside)[0]! : null;
        const fill = pairs([parse(cs.backgroundColor)], outside)[0]!;
        if ((border?.ratio ?? 0) < 3 && fill.ratio < 3)
          out.add(
            `${describe(el)}: field boundary ${border ? `${hex(border.fg)} on ${hex(border.bg)} = ${border.ratio.toFixed(2)}` : "none"}, field ${hex(fill.fg)} = ${fill.ratio.toFixed(2)}, needs 3`,
          );
      }
      return out.list();
    },

    names() {
      const out: string[] = [];
      const hasWords = (s: string | null | undefined) => !!s && /[\p{L}\p{N}]/u.test(s);
      const byIds = (ids: string | null) =>
        (ids ?? "")
          .split(/\s+/)
          .filter(Boolean)
          .map((id) => document.getElementById(id)?.textContent?.trim() ?? "")
          .join(" ")
          .trim();
      const label = (el: Element) => el.getAttribute("aria-label")?.trim() || byIds(el.getAttribute("aria-labelledby"));
      for (const el of all<HTMLElement>("button, [role=button], input[type=submit], input[type=button], input[type=reset]")) {
        if (!visible(el)) continue;
        const text = el instanceof HTMLInputElement ? el.value : el.innerText;
        if (hasWords(text)) continue;
        if (!hasWords(label(el))) out.push(`${describe(el)}: a button without visible text has no aria-label or aria-labelledby`);
        if (!hasWords(el.getAttribute("title"))) out.push(`${describe(el)}: a button without visible text has no title (tooltip)`);
      }
      for (const a of all<HTMLAnchorElement>("a[href]")) {
        if (!visible(a)) continue;
        const imgs = all("img[alt], svg title", a).map((i) => i.getAttribute("alt") ?? i.textContent);
        if (!hasWords(a.innerText) && !hasWords(label(a)) && !imgs.some(hasWords)) out.push(`${describe(a)}: a link without a name`);
      }
      for (const fig of all<HTMLElement>("figure.chart")) {
        const caption = fig.querySelector("figcaption")?.textContent;
        if (!hasWords(caption) && !hasWords(label(fig))) out.push(`${describe(fig)}: a chart without a caption or aria-label`);
        const described = [fig, ...all("[role=img]", fig)].some((e) => hasWords(byIds(e.getAttribute("aria-describedby"))));
        if (!described) out.push(`${describe(fig)}: a chart without an aria-describedby description`);
        for (const img of all("[role=img]", fig))
          if (!hasWords(label(img))) out.push(`${describe(img)}: the chart's image has no aria-label or aria-labelledby`);
      }
      for (const img of all("[role=img], img")) {
        if (img.closest("figure.chart") || !visible(img)) continue;
        if (!hasWords(label(img)) && !hasWords(img.getAttribute("alt"))) out.push(`${describe(img)}: an image without a name`);
      }
      for (const m of all("[role=meter]")) {
        if (!hasWords(label(m))) out.push(`${describe(m)}: a gauge without a name`);
        if (!m.hasAttribute("aria-valuenow") && !m.hasAttribute("aria-valuetext"))
          out.push(`${describe(m)}: a gauge with neither aria-valuenow nor aria-valuetext`);
      }
      // Made focusable on purpose (a table that scrolls sideways): a screen reader must hear what it is.
      for (const el of all<HTMLElement>('[tabindex]:not([tabindex^="-"])')) {
        if (el.matches("a[href], button, input, select, textarea, summary") || !visible(el)) continue;
        if (!el.getAttribute("role") || !hasWords(label(el))) out.push(`${describe(el)}: focusable (tabindex) without a role and a name`);
      }
      for (const f of all<HTMLInputElement>("input, select, textarea")) {
        if (f.type === "hidden" || !visible(f)) continue;
        const labelled = hasWords(label(f)) || Array.from(f.labels ?? []).some((l) => hasWords(l.textContent)) || hasWords(f.title);
        if (!labelled) out.push(`${describe(f)}: a form field without a label`);
      }
      return [...new Set(out)];
    },

    motion() {
      const out = collector();
      const seconds = (list: string) => Math.max(...list.split(",").map((s) => parseFloat(s) * (s.trim().endsWith("ms") ? 0.001 : 1)));
      // A busy indicator (a restart in progress) must stand still too: one is added for the check if none is on the page.
      const probe = document.querySelector("[aria-busy=true]") ? null : document.createElement("span");
      if (probe) {
        probe.setAttribute("aria-busy", "true");
        probe.textContent = "busy";
        document.querySelector("main")!.append(probe);
      }
      try {
        for (const a of document.getAnimations()) {
          const t = a.effect?.getComputedTiming();
          const ms = typeof t?.duration === "number" ? t.duration : 0;
          if ((a.playState === "running" || a.pending) && (ms > 10 || t?.iterations === Infinity)) {
            const name =
              a instanceof CSSAnimation ? a.animationName : a instanceof CSSTransition ? `transition of ${a.transitionProperty}` : a.id;
            out.add(`${describe((a.effect as KeyframeEffect | null)?.target ?? null)}: ${name} runs ${ms} ms`);
          }
        }
        for (const el of all("body, body *")) {
          for (const pseudo of [null, "::before", "::after"]) {
            const cs = getComputedStyle(el, pseudo);
            if (pseudo && cs.content === "none") continue;
            const where = `${describe(el)}${pseudo ?? ""}`;
            if (cs.transitionProperty !== "none" && seconds(cs.transitionDuration) > 0.01)
              out.add(`${where}: transition of ${cs.transitionProperty} lasts ${cs.transitionDuration}`);
            if (cs.animationName !== "none" && seconds(cs.animationDuration) > 0.01)
              out.add(`${where}: animation ${cs.animationName} lasts ${cs.animationDuration}`);
            // An SVG that animates itself (Pico's loading spinner: a <style> with an infinite rotation) as a background moves
            // whatever the page's CSS says about animations.
            if (/^url\("?data:image\/svg/.test(cs.backgroundImage) && /%3Canimate|<animate|animation|keyframes/i.test(cs.backgroundImage))
              out.add(`${where}: an animated SVG background`);
          }
        }
      } finally {
        probe?.remove();
      }
      return out.list();
    },

    markTabbables() {
      const problems: string[] = [];
      const candidates = all<HTMLElement>(
        "a[href], button, input, select, textarea, summary, [tabindex], [contenteditable], iframe, audio[controls], video[controls]",
      );
      let count = 0;
      for (const el of candidates) {
        if (el.tabIndex > 0) problems.push(`${describe(el)}: tabindex=${el.tabIndex} reorders the page`);
        const details = el.closest("details:not([open])");
        const inClosedDetails = details && !(el.tagName === "SUMMARY" && el.parentElement === details);
        if (el.tabIndex < 0 || (el as HTMLInputElement).disabled || (el as HTMLInputElement).type === "hidden") continue;
        if (inClosedDetails || el.closest("[inert]") || !el.checkVisibility({ visibilityProperty: true })) continue;
        el.setAttribute("data-a11y-tab", String(count++));
        const cs = getComputedStyle(el);
        el.setAttribute(
          "data-a11y-was",
          JSON.stringify({
            boxShadow: cs.boxShadow,
            outline: `${cs.outlineStyle} ${cs.outlineWidth} ${cs.outlineColor}`,
            bg: cs.backgroundColor,
          }),
        );
      }
      return { count, problems };
    },

    focused() {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body || el === document.documentElement)
        return { index: -1, desc: "(nothing)", inHeader: false, inMain: false, toggle: false, segmented: false, ring: null };
      const index = el.hasAttribute("data-a11y-tab") ? Number(el.getAttribute("data-a11y-tab")) : -2;
      const was = JSON.parse(el.getAttribute("data-a11y-was") ?? "{}") as { boxShadow?: string; bg?: string };
      const cs = getComputedStyle(el);
      const reasons: string[] = [];
      let ring: string | null = null;
      const outside = backdrop(el, false);
      const inside = backdrop(el, true);
      const width = parseFloat(cs.outlineWidth);
      if (cs.outlineStyle === "auto") ring = null;
      else {
        let ok = false;
        if (cs.outlineStyle !== "none" && width > 0) {
          const w = pairs([parse(cs.outlineColor)], parseFloat(cs.outlineOffset) < 0 ? inside : outside)[0]!;
          ok = w.ratio >= 3 && width >= 2;
          reasons.push(`outline ${width}px ${hex(w.fg)} on ${hex(w.bg)} = ${w.ratio.toFixed(2)}`);
        }
        if (!ok && cs.boxShadow !== "none" && cs.boxShadow !== was.boxShadow) {
          // Each shadow: its colour and lengths (x y blur spread); a ring is one with blur + spread of 2 px or more.
          for (const shadow of cs.boxShadow.split(/,(?![^(]*\))/)) {
            const color = shadow.match(COLOR)?.[0];
            const lengths = (shadow.replace(COLOR, "").match(/-?[\d.]+px/g) ?? []).map(parseFloat);
            if (!color || (lengths[2] ?? 0) + (lengths[3] ?? 0) < 2) continue;
            const w = pairs([parse(color)], /inset/.test(shadow) ? inside : outside)[0]!;
            reasons.push(`box-shadow ${hex(parse(color))} on ${hex(w.bg)} = ${w.ratio.toFixed(2)}`);
            if (w.ratio >= 3) ok = true;
          }
        }
        if (!ok && was.bg && was.bg !== cs.backgroundColor) {
          const before = pairs([parse(was.bg)], outside)[0]!.fg;
          const now = pairs([parse(cs.backgroundColor)], outside)[0]!.fg;
          if (ratio(before, now) >= 3) ok = true;
          else reasons.push(`background ${hex(before)} → ${hex(now)} = ${ratio(before, now).toFixed(2)}`);
        }
        if (!ok) ring = `no visible focus indicator (${reasons.join("; ") || "no outline, no box-shadow"}; needs 2px at 3:1)`;
      }
      return {
        index,
        desc: `${describe(el)} "${(el.getAttribute("aria-label") || el.innerText || "").replace(/\s+/g, " ").trim().slice(0, 30)}"`,
        inHeader: !!el.closest("header.site"),
        inMain: !!el.closest("main"),
        toggle: el.hasAttribute("data-theme-toggle"),
        // A date or time field takes one Tab per part (day, month, year, hour...) before focus moves on.
        segmented: el instanceof HTMLInputElement && /^(date|time|datetime-local|month|week)$/.test(el.type),
        ring,
      };
    },

    describe(index: number) {
      const el = document.querySelector(`[data-a11y-tab="${index}"]`);
      return `${describe(el)} "${((el as HTMLElement | null)?.innerText ?? "").replace(/\s+/g, " ").trim().slice(0, 30)}"`;
    },
  };
  (window as unknown as KitWindow).__a11y = kit;
}

/** Tab from the top to past the end: every element reached, in document order, each with a visible ring, no trap. */
async function keyboardWalk(page: Page): Promise<string[]> {
  const { count, problems } = await page.evaluate(() => (window as unknown as KitWindow).__a11y.markTabbables());
  const reached: number[] = [];
  const stops: ReturnType<A11yKit["focused"]>[] = [];
  const SEGMENTS = 8;
  let same = 0;
  for (let i = 0; i < count * 2 + 20; i++) {
    await page.keyboard.press("Tab");
    const f = await page.evaluate(() => (window as unknown as KitWindow).__a11y.focused());
    // Past the last element focus leaves the document (or wraps to the first): the walk is over.
    if (f.index === -1 || (f.index === reached[0] && reached.length > 1)) break;
    const last = stops.at(-1);
    if (last && last.desc === f.desc && last.index === f.index) {
      if (f.segmented && ++same < SEGMENTS) continue;
      problems.push(`keyboard trap: Tab does not leave ${f.desc}`);
      break;
    }
    same = 0;
    stops.push(f);
    if (f.index === -2)
      problems.push(
        `Tab stops on ${f.desc}, not a link, button or field (a scrolling box Chromium makes focusable?): give it tabindex="0", a role and a name`,
      );
    else {
      const prev = reached.at(-1);
      if (prev !== undefined && f.index < prev) problems.push(`focus goes back from #${prev} to ${f.desc} (#${f.index})`);
      reached.push(f.index);
    }
    if (f.ring) problems.push(`${f.desc}: ${f.ring}`);
  }
  const missed: number[] = [];
  for (let i = 0; i < count; i++) if (!reached.includes(i)) missed.push(i);
  for (const i of missed.slice(0, 10))
    problems.push(`not reached by Tab: ${await page.evaluate((n) => (window as unknown as KitWindow).__a11y.describe(n), i)}`);
  if (missed.length > 10) problems.push(`…and ${missed.length - 10} more not reached by Tab`);
  if (stops.length && !stops[0]!.inHeader) problems.push(`the first Tab stop is ${stops[0]!.desc}, not the navigation`);
  const toggle = stops.findIndex((s) => s.toggle);
  const main = stops.findIndex((s) => s.inMain);
  if (toggle < 0) problems.push("Tab never reaches the theme toggle");
  else if (main >= 0 && toggle > main) problems.push("the theme toggle comes after the page's content in Tab order");
  return problems;
}

/** The theme toggle, focused, flips the theme with Enter and back with Space, saying what it will do next. */
async function themeToggle(page: Page, theme: Theme): Promise<string[]> {
  const problems: string[] = [];
  const other: Theme = theme === "dark" ? "light" : "dark";
  const toggle = page.locator("[data-theme-toggle]");
  const state = () =>
    page.evaluate(() => ({
      theme: document.documentElement.getAttribute("data-theme"),
      label: document.querySelector("[data-theme-toggle]")?.getAttribute("aria-label") ?? "",
      pressed: document.querySelector("[data-theme-toggle]")?.hasAttribute("aria-pressed") ?? false,
      focused: document.activeElement?.hasAttribute("data-theme-toggle") ?? false,
    }));
  await toggle.focus();
  for (const [key, expected] of [
    ["Enter", other],
    ["Space", theme],
  ] as const) {
    await page.keyboard.press(key);
    const s = await state();
    if (s.theme !== expected) problems.push(`${key} on the theme toggle: the theme is ${s.theme}, not ${expected}`);
    if (!s.label.includes(expected === "dark" ? "light" : "dark")) problems.push(`after ${key} the toggle's label says "${s.label}"`);
    if (!s.focused) problems.push(`after ${key} the theme toggle lost focus`);
    // A label that says what a press will do, and aria-pressed besides, reads as "Switch to the dark theme, pressed".
    if (s.pressed) problems.push("the theme toggle has aria-pressed as well as a label that changes with the theme");
  }
  return problems;
}

async function openPage(path: string, viewport: ViewportName, theme: Theme): Promise<Page> {
  const page = await fleet.newPage({ viewport, theme });
  // The harness's contexts already ask for it; said here too, since the motion check means nothing without it.
  await page.emulateMedia({ reducedMotion: "reduce" });
  // The live stream stays off: a region swapped in mid-walk would take focus with it, and what the stream sends is the
  // same partials the server rendered.
  await page.route("**/events?*", (route) => route.abort());
  await page.goto(path);
  if (path.startsWith("/workers/")) {
    // Drawn means uPlot's own element is in.
    const figures = page.locator("figure.chart[data-metric]");
    await figures.first().waitFor();
    await waitUntil("every chart drawn", 15_000, () => figures.evaluateAll((figs) => figs.every((f) => f.querySelector(".uplot"))));
    // The restart dialog open with force ticked, its fields, warning and red button judged too. Set from script, not
    // clicked: a click would move the point Tab starts from.
    await page.evaluate(() => {
      const dialog = document.querySelector<HTMLDetailsElement>("details#restart");
      const force = document.querySelector<HTMLInputElement>("#restart-force");
      if (dialog) dialog.open = true;
      if (force) force.checked = true;
    });
  }
  await page.evaluate(installKit);
  return page;
}

const PAGES = [
  { name: "fleet", path: () => "/" },
  { name: "worker", path: () => workerPath },
] as const;

describe("accessibility in a browser", () => {
  for (const p of PAGES)
    for (const viewport of Object.keys(VIEWPORTS) as ViewportName[])
      for (const theme of THEMES)
        test(`${p.name} page, ${viewport}, ${theme}: contrast, keyboard, names, reduced motion`, async () => {
          const page = await openPage(p.path(), viewport, theme);
          try {
            const problems: Record<string, string[]> = {
              "text contrast (WCAG 1.4.3)": await page.evaluate(() => (window as unknown as KitWindow).__a11y.contrast()),
              "non-text contrast (WCAG 1.4.11)": await page.evaluate(() => (window as unknown as KitWindow).__a11y.nonTextContrast()),
              "names and descriptions": await page.evaluate(() => (window as unknown as KitWindow).__a11y.names()),
              "prefers-reduced-motion": await page.evaluate(() => (window as unknown as KitWindow).__a11y.motion()),
              keyboard: await keyboardWalk(page),
              "theme toggle": await themeToggle(page, theme),
            };
            const report = Object.entries(problems)
              .filter(([, lines]) => lines.length)
              .map(([what, lines]) => `${what}:\n${lines.map((l) => `  - ${l}`).join("\n")}`);
            if (report.length) throw new Error(`${p.name} page, ${viewport}, ${theme}:\n${report.join("\n")}`);
          } finally {
            await page.context().close();
          }
        }, 60_000);
});

describe("keyboard focus and live updates", () => {
  test("a keyboard user's focus on a worker card survives the card's live updates", async () => {
    const page = await fleet.newPage();
    try {
      const stream = page.waitForResponse((r) => r.url().includes("/events?view="), { timeout: 10_000 });
      await page.goto("/");
      await stream;
      await page.bringToFront();
      // Tab until a link inside the cards region has the focus.
      let inCards = false;
      for (let i = 0; i < 80 && !inCards; i++) {
        await page.keyboard.press("Tab");
        inCards = await page.evaluate(() => !!document.activeElement?.closest("#fleet") && document.activeElement?.tagName === "A");
      }
      if (!inCards) throw new Error("no link in the worker cards was reached with Tab");
      const focused = await page.evaluate(() => (document.activeElement as HTMLAnchorElement).getAttribute("href"));
      const before = await page.locator("#fleet").innerHTML();
      // The simulator sends a sample a second: the cards region changes within a few seconds.
      await waitUntil("a live update of the cards", 15_000, async () => (await page.locator("#fleet").innerHTML()) !== before);
      await Bun.sleep(1_500);
      const after = await page.evaluate(() => ({
        href: document.activeElement?.getAttribute("href") ?? null,
        tag: document.activeElement?.tagName ?? null,
      }));
      if (after.href !== focused) throw new Error(`focus moved from the link to ${focused} to ${after.tag} ${after.href ?? ""}`);
    } finally {
      await page.context().close();
    }
  }, 60_000);
});
