/**
 * Vega-Lite specifications rendered headless to SVG (vega-lite compiles them to Vega, vega
 * draws them), and made small: positions to a hundredth of a pixel, and the points of a
 * scatter plot merged into a few paths ({@link mergePoints}).
 *
 * A scatter plot's points are many (two per gene in the dispersion plot: 70,000 on bodymap)
 * and vega builds a scenegraph item, an SVG element and a string of it for each, which
 * {@link mergePoints} then parses back: seconds per report. So {@link renderSvg} lets vega draw
 * everything but them: it gives vega a handful of the points (those at the extremes of x and
 * y, which fix the scales' domains as all the points do, and one of each style, which fixes
 * the legend and shows how vega draws that style), and draws all the points itself with
 * vega's own scales, in the form mergePoints gives vega's (`test/reports/svg.test.ts`: the
 * same bytes as {@link renderSvgWithVega}, which lets vega draw every point).
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** Render a Vega-Lite spec to an SVG string, headless (scatter points drawn here: see above). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  return (await renderScatterSvg(spec)) ?? renderSvgWithVega(spec);
}

/**
 * Render a Vega-Lite spec to an SVG string, headless, every mark drawn by vega: the reference
 * {@link renderSvg} is tested against (seconds for tens of thousands of points).
 */
export async function renderSvgWithVega(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return compactSvg(await view.toSVG());
  } finally {
    view.finalize();
  }
}

type Datum = Readonly<Record<string, unknown>>;

/** A layer of a spec, as far as the scatter path reads it. */
interface LayerLike {
  readonly mark?: unknown;
  readonly encoding?: Readonly<Record<string, unknown>>;
  readonly data?: { readonly values?: unknown };
  readonly layer?: unknown;
  readonly transform?: unknown;
  readonly params?: unknown;
}

/** The one scatter layer of a spec that {@link renderScatterSvg} can draw, and its data. */
interface ScatterLayer {
  /** The spec with the layer's data replaced by `values`. */
  readonly withValues: (values: readonly Datum[]) => TopLevelSpec;
  readonly values: readonly Datum[];
  readonly x: { readonly field: string; readonly log: boolean };
  readonly y: { readonly field: string; readonly log: boolean };
  /** The fields a point's colour and size depend on. */
  readonly styleFields: readonly string[];
}

/** Mark properties of a point layer drawn here: filled circles without stroke or ARIA labels. */
const SCATTER_MARK = {
  type: "point",
  shape: "circle",
  filled: true,
  strokeWidth: 0,
  aria: false,
} as const;

/**
 * The mark of a scatter layer {@link renderSvg} draws outside vega: small filled circles of the
 * given opacity, without stroke or per-point ARIA labels (with x and y on a linear or log scale,
 * and colour and size from a field or a value).
 */
export function scatterMark(opacity: number) {
  return { ...SCATTER_MARK, opacity };
}

/** Properties a channel drawn here may have (no aggregate, bin, time unit, stack, …). */
const CHANNEL_KEYS = new Set([
  "field",
  "type",
  "title",
  "scale",
  "axis",
  "legend",
  "sort",
  "value",
]);

/** Whether a channel definition has only {@link CHANNEL_KEYS}. */
function plainChannel(channel: unknown): boolean {
  return (
    typeof channel === "object" &&
    channel !== null &&
    Object.keys(channel).every((key) => CHANNEL_KEYS.has(key))
  );
}

/** A position channel drawn here: a quantitative field on a linear or log scale. */
function positionChannel(channel: unknown): { field: string; log: boolean } | null {
  if (!plainChannel(channel)) return null;
  const c = channel as { field?: unknown; type?: unknown; scale?: { type?: unknown } };
  if (typeof c.field !== "string" || c.type !== "quantitative") return null;
  const scaleType = c.scale?.type;
  if (scaleType !== undefined && scaleType !== "linear" && scaleType !== "log") return null;
  return { field: c.field, log: scaleType === "log" };
}

/**
 * The layer {@link renderScatterSvg} draws: the spec's only point mark, a filled circle
 * (opacity allowed) whose encoding is x, y and optionally colour and size (a field or a
 * value), none of them aggregated, binned or stacked, with inline data of its own or the
 * spec's, which no other layer reads and no transform changes. null: the spec has none, vega
 * draws it all.
 */
function scatterLayer(spec: TopLevelSpec): ScatterLayer | null {
  const top = spec as LayerLike;
  // A transform (filter, calculate, …) or a parameter changes what vega draws of the data.
  if (top.transform !== undefined || top.params !== undefined) return null;
  const layers = Array.isArray(top.layer) ? (top.layer as LayerLike[]) : null;
  const candidates = layers ?? [top];
  const points = candidates.filter(
    (l) =>
      typeof l.mark === "object" &&
      l.mark !== null &&
      (l.mark as { type?: unknown }).type === "point",
  );
  if (points.length !== 1) return null;
  const layer = points[0];
  if (layer.transform !== undefined || layer.params !== undefined) return null;
  const mark = layer.mark as Readonly<Record<string, unknown>>;
  for (const [key, value] of Object.entries(mark)) {
    const expected = (SCATTER_MARK as Readonly<Record<string, unknown>>)[key];
    if (key === "opacity" ? typeof value !== "number" : expected !== value) return null;
  }
  if (Object.keys(SCATTER_MARK).some((key) => !(key in mark))) return null;
  const encoding = layer.encoding ?? {};
  const styleFields: string[] = [];
  for (const [channel, value] of Object.entries(encoding)) {
    if (channel === "x" || channel === "y") continue;
    if ((channel !== "color" && channel !== "size") || !plainChannel(value)) return null;
    const field = (value as { field?: unknown }).field;
    if (typeof field === "string") {
      if (!styleFields.includes(field)) styleFields.push(field);
    } else if (!("value" in (value as object))) return null;
  }
  const x = positionChannel(encoding.x);
  const y = positionChannel(encoding.y);
  if (x === null || y === null) return null;
  const own = layer.data !== undefined;
  const values = (own ? layer.data : top.data)?.values;
  if (!Array.isArray(values)) return null;
  // The spec's data must be the points' alone: every other layer brings its own.
  if (!own && layers !== null && layers.some((l) => l !== layer && l.data === undefined)) {
    return null;
  }
  const withValues = (standIns: readonly Datum[]): TopLevelSpec => {
    const data = { values: standIns as Datum[] };
    if (layers === null || !own) return { ...spec, data } as TopLevelSpec;
    return {
      ...spec,
      layer: layers.map((l) => (l === layer ? { ...l, data } : l)),
    } as TopLevelSpec;
  };
  return { withValues, values: values as Datum[], x, y, styleFields };
}

/**
 * A value the points drawn here may hold on a channel: a finite number (positive on a log scale).
 * Where vega-lite filters or places the others is its own business: a plot holding any is left
 * to vega whole (the report's plots hold none: they leave out such genes and say how many).
 */
function drawable(v: unknown, log: boolean): v is number {
  return typeof v === "number" && Number.isFinite(v) && (!log || v > 0);
}

/** A point's style key: the values of the fields its colour and size depend on (distinct). */
function styleKey(d: Datum, fields: readonly string[]): string {
  if (fields.length === 1) return String(d[fields[0]]);
  return JSON.stringify(fields.map((f) => d[f]));
}

/**
 * The points vega is given in place of all: the first at the least and greatest x and y
 * (the scales' domains are those of all the points), and the first of each style; in the
 * points' order. null when a point is not {@link drawable}.
 */
function standIns(layer: ScatterLayer): number[] | null {
  const { values, x, y, styleFields } = layer;
  const picked = new Set<number>();
  const extremes = [-1, -1, -1, -1];
  const seen = new Set<string>();
  for (let i = 0; i < values.length; i++) {
    const xv = values[i][x.field];
    const yv = values[i][y.field];
    if (!drawable(xv, x.log) || !drawable(yv, y.log)) return null;
    const key = styleKey(values[i], styleFields);
    if (!seen.has(key)) {
      seen.add(key);
      picked.add(i);
    }
    const at = (k: number, field: string) => values[extremes[k]][field] as number;
    if (extremes[0] < 0 || xv < at(0, x.field)) extremes[0] = i;
    if (extremes[1] < 0 || xv > at(1, x.field)) extremes[1] = i;
    if (extremes[2] < 0 || yv < at(2, y.field)) extremes[2] = i;
    if (extremes[3] < 0 || yv > at(3, y.field)) extremes[3] = i;
  }
  for (const i of extremes) if (i >= 0) picked.add(i);
  return [...picked].sort((a, b) => a - b);
}

/**
 * A point's position as the merged path writes it: a tenth of a pixel, from the hundredth
 * compactSvg rounds every position to (rounding to hundredths twice is rounding once: the same
 * whether compactSvg rounded it first), as the shortest text that reads back the same. `v` is
 * the position vega writes (`String(v)` reads back as v).
 */
export function pointPosition(v: number): string {
  const magnitude = Math.abs(v);
  // The same digits from integers, where they are sure (a plot's points: all but ~1 in 10): n
  // = round(|v|·100) is toFixed(2)'s digits when the product (off by < 1.2e-8 below 10^6) is
  // not within 1e-6 of a tie; n/100 is the double Number(toFixed(2)) reads (both the nearest
  // to the decimal); its tenths round it as the integer m unless n ends in 5, where the
  // double's side of the tie decides. Each position was five strings, now one.
  if (magnitude < 1e6) {
    const t = magnitude * 100;
    const n = Math.round(t);
    const last = n % 10;
    if (Math.abs(Math.abs(t - n) - 0.5) > 1e-6 && last !== 5) {
      const m = (n - last) / 10 + (last > 5 ? 1 : 0);
      if (m === 0) return "0";
      const tenth = m % 10;
      const whole = (m - tenth) / 10;
      const sign = v < 0 ? "-" : "";
      return tenth === 0 ? `${sign}${whole}` : `${sign}${whole}.${tenth}`;
    }
  }
  return pointPositionByText(v);
}

/** {@link pointPosition} as defined: through toFixed's text (its tests' reference). */
export function pointPositionByText(v: number): string {
  const fixed = Number(v.toFixed(2)).toFixed(1);
  // toFixed keeps ".0" and a minus sign on zero; String of the number does neither.
  const whole = fixed.endsWith(".0") ? fixed.slice(0, -2) : fixed;
  return whole === "-0" ? "0" : whole;
}

/**
 * The spec rendered with its scatter layer's points drawn here (see the module note), or null
 * when it has no such layer or vega did not draw the stand-ins as expected (then vega draws
 * everything: never a different picture).
 */
export async function renderScatterSvg(spec: TopLevelSpec): Promise<string | null> {
  const layer = scatterLayer(spec);
  if (layer === null) return null;
  const picked = standIns(layer);
  if (picked === null) return null;
  const view = new vega.View(
    vega.parse(compile(layer.withValues(picked.map((i) => layer.values[i]))).spec),
    { renderer: "none" },
  );
  try {
    const svg = await view.toSVG();
    const groups = [...svg.matchAll(SYMBOL_GROUP)];
    if (groups.length !== 1) return null;
    const [group, open, paths, close] = groups[0];
    const tags = paths.match(/<path [^>]*\/>/g) ?? [];
    if (tags.length !== picked.length) return null;
    const xScale = view.scale("x") as ((v: number) => number) | undefined;
    const yScale = view.scale("y") as ((v: number) => number) | undefined;
    if (xScale === undefined || yScale === undefined) return null;
    const { values, x, y, styleFields } = layer;
    // How vega drew each style, and where: exactly where the scales put them, or vega is left
    // to draw everything.
    const runs = new MergedRuns();
    const styles = new Map<string, RunStyle>();
    for (const [j, i] of picked.entries()) {
      const drawn = POINT_TAG.exec(tags[j]);
      if (drawn === null) return null;
      const [, px, py, radius, fill, opacity] = drawn;
      const xv = xScale(values[i][x.field] as number);
      const yv = yScale(values[i][y.field] as number);
      if (hundredths(px) !== hundredths(String(xv)) || hundredths(py) !== hundredths(String(yv))) {
        return null;
      }
      styles.set(styleKey(values[i], styleFields), runs.style(radius, fill, opacity));
    }
    for (const d of values) {
      const xv = d[x.field] as number;
      const yv = d[y.field] as number;
      const style = styles.get(styleKey(d, styleFields)) as RunStyle;
      runs.add(style, pointPosition(xScale(xv)), pointPosition(yScale(yv)));
    }
    const index = groups[0].index ?? 0;
    return compactSvg(
      `${svg.slice(0, index)}${open}${runs.join()}${close}${svg.slice(index + group.length)}`,
    );
  } finally {
    view.finalize();
  }
}

/** A symbol mark's group of paths, as vega writes it (legend symbols are not role-mark). */
const SYMBOL_GROUP = /(<g class="mark-symbol role-mark[^"]*"[^>]*>)((?:<path [^>]*\/>)*)(<\/g>)/g;

/** A run's path attributes: one object per radius, colour and opacity. */
interface RunStyle {
  readonly attributes: string;
}

/**
 * Points of one radius, colour and opacity in a row, as one `<path class="points">` each
 * ({@link mergePoints}).
 */
class MergedRuns {
  readonly #out: string[] = [];
  readonly #styles = new Map<string, RunStyle>();
  #run: string[] = [];
  #style: RunStyle | null = null;

  /** The style of points drawn with this radius, colour and opacity (one object for each). */
  style(radius: string, fill: string, opacity: string | undefined): RunStyle {
    const key = `${radius} ${fill} ${opacity ?? ""}`;
    let style = this.#styles.get(key);
    if (style === undefined) {
      style = {
        attributes:
          ` fill="none" stroke="${fill}" stroke-width="${Number((2 * Number(radius)).toFixed(3))}"` +
          ` stroke-linecap="round"${opacity === undefined ? "" : ` stroke-opacity="${opacity}"`}`,
      };
      this.#styles.set(key, style);
    }
    return style;
  }

  /** A point of `style` (from {@link style}) at x, y. */
  add(style: RunStyle, x: string, y: string): void {
    if (style !== this.#style) {
      this.flush();
      this.#style = style;
    }
    this.#run.push(`M${x} ${y}h0`);
  }

  /** End the current run (a tag not a point comes next). */
  flush(): void {
    if (this.#run.length > 0 && this.#style !== null) {
      this.#out.push(`<path class="points" d="${this.#run.join("")}"${this.#style.attributes}/>`);
    }
    this.#run = [];
    this.#style = null;
  }

  /** A tag kept as it is, between runs. */
  keep(tag: string): void {
    this.flush();
    this.#out.push(tag);
  }

  join(): string {
    this.flush();
    return this.#out.join("");
  }
}

/**
 * Shrink the SVG of many points: vega writes each position with full double precision (a
 * hundredth of a pixel is plenty), `stroke-width="0"` on paths that have no stroke, and one
 * `<path>` of some 110 bytes per point; {@link mergePoints} then draws each run of like points
 * as one path.
 */
export function compactSvg(svg: string): string {
  // Points first: merged, they carry no transform and no zero stroke width, so the two passes
  // over every tag that follow have a few hundred tags to rewrite instead of one per point.
  return mergePoints(svg)
    .replace(
      /translate\((-?[0-9.e+-]+),(-?[0-9.e+-]+)\)/g,
      (_, x: string, y: string) => `translate(${hundredths(x)},${hundredths(y)})`,
    )
    .replace(/<path [^>]*>/g, (tag) =>
      tag.includes(' stroke="') ? tag : tag.replace(' stroke-width="0"', ""),
    );
}

/** A coordinate to a hundredth of a pixel, as the shortest number that reads back the same. */
function hundredths(x: string): number {
  return Number(Number(x).toFixed(2));
}

/**
 * A point as vega draws it: a translated circle of radius r, filled, no stroke (a zero stroke
 * width, as vega writes it, or none).
 */
const POINT_TAG =
  /^<path transform="translate\((-?[0-9.e+-]+),(-?[0-9.e+-]+)\)" d="M([0-9.]+),0A\3,\3,0,1,1,-\3,0A\3,\3,0,1,1,\3,0" fill="(#[0-9a-fA-F]{3,6})"(?: stroke-width="0")?(?: opacity="([0-9.]+)")?\/>$/;

/**
 * In every symbol mark, draw each run of consecutive points of one radius, colour and opacity
 * as one `<path class="points">`: a zero-length segment per point ("M x y h0"), with a round
 * stroke cap of the point's diameter, which is the same disc (SVG paints a round cap on a
 * zero-length subpath). Some 14 bytes a point instead of 110: a report of 35,000 genes stays
 * a few MB. Points keep their drawing order; the run's opacity applies to the run as a whole
 * (overlapping points of one run no longer darken each other). Anything else in the group (a
 * point with a label or a stroke, another shape) is kept as vega drew it.
 */
export function mergePoints(svg: string): string {
  return svg.replace(SYMBOL_GROUP, (_, open: string, paths: string, close: string) => {
    const runs = new MergedRuns();
    for (const tag of paths.match(/<path [^>]*\/>/g) ?? []) {
      const point = POINT_TAG.exec(tag);
      if (point === null) runs.keep(tag);
      else
        runs.add(
          runs.style(point[3], point[4], point[5]),
          pointPosition(Number(point[1])),
          pointPosition(Number(point[2])),
        );
    }
    return `${open}${runs.join()}${close}`;
  });
}
