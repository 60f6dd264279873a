/**
 * Scatter points drawn outside vega (src/reports/svg.ts): the same bytes as vega drawing every
 * point, which is the outside truth here (vega's scales, layout and symbol paths, then the
 * merging of mergePoints, tested in html.test.ts).
 */

import type { TopLevelSpec } from "vega-lite";
import { describe, expect, it } from "vitest";
import { renderReport, trendVertices } from "../../src/reports/html.js";
import {
  pointPosition,
  pointPositionByText,
  renderScatterSvg,
  renderSvg,
  renderSvgWithVega,
  scatterMark,
} from "../../src/reports/svg.js";
import { seededRandom } from "../../src/simulate/cohort.js";
import { syntheticRunReport } from "../helpers/reportInput.js";

/** Points drawn in merged runs (`M x yh0` each in a `class="points"` path). */
function drawnPoints(svg: string): number {
  let n = 0;
  for (const [, d] of svg.matchAll(/class="points" d="([^"]*)"/g)) n += d.split("h0").length - 1;
  return n;
}

/** Points of several styles in a run of each, on the channels given. */
function points(n: number, log: boolean) {
  const rng = seededRandom(n);
  return Array.from({ length: n }, (_, i) => ({
    x: log ? Math.exp(rng.normal(4, 3)) : rng.normal(0, 2),
    y: log ? Math.exp(rng.normal(-2, 1)) : -Math.log10(rng.uniform()),
    kind: i < n / 2 ? "a" : i % 7 === 0 ? "c" : "b",
  }));
}

const MARK = scatterMark(0.6);
const COLOR = {
  field: "kind",
  type: "nominal",
  scale: { domain: ["a", "b", "c"], range: ["#9d9d9d", "#4c78a8", "#e45756"] },
} as const;

describe("scatter points drawn outside vega", () => {
  it("a run's report (MA, reference, dispersion, volcano plots) is the page vega draws every point of", async () => {
    const input = syntheticRunReport(4000);
    const page = await renderReport(input);
    expect(page).toBe(await renderReport(input, { everyMarkByVega: true }));
    // Every plot is there, with its points (a report of 4,000 genes: 14 bytes or so a point).
    for (const id of ["ma-plot", "reference-plot", "dispersion-plot", "volcano-plot", "pca-plot"]) {
      expect(page).toContain(`<figure id="${id}">`);
    }
    expect(drawnPoints(page)).toBeGreaterThan(4 * 3500);
  });

  const specs: [string, TopLevelSpec][] = [
    [
      "one mark, linear scales, size a value",
      {
        width: 300,
        height: 200,
        data: { values: points(3000, false) },
        mark: MARK,
        encoding: {
          x: { field: "x", type: "quantitative" },
          y: { field: "y", type: "quantitative" },
          color: COLOR,
          size: { value: 5.76 },
        },
      },
    ],
    [
      "layers with their own data, log scales, a line, size by the colour's field",
      {
        width: 400,
        height: 250,
        layer: [
          {
            data: { values: points(2000, true) },
            mark: MARK,
            encoding: {
              x: { field: "x", type: "quantitative", scale: { type: "log" } },
              y: { field: "y", type: "quantitative", scale: { type: "log" } },
              color: COLOR,
              size: {
                field: "kind",
                type: "ordinal",
                scale: { domain: ["a", "b", "c"], range: [5.76, 10.24, 10.24] },
                legend: null,
              },
            },
          },
          {
            data: {
              values: [
                { x: 0.1, y: 0.01 },
                { x: 1e6, y: 10 },
              ],
            },
            mark: { type: "line", color: "#999" },
            encoding: {
              x: { field: "x", type: "quantitative" },
              y: { field: "y", type: "quantitative" },
            },
          },
        ],
      },
    ],
  ];
  for (const [what, spec] of specs) {
    it(`${what}: drawn here, the bytes vega draws`, async () => {
      const fast = await renderScatterSvg(spec);
      expect(fast).not.toBeNull();
      expect(fast).toBe(await renderSvgWithVega(spec));
      expect(drawnPoints(fast ?? "")).toBe(
        ((spec as { data?: { values: unknown[] } }).data?.values.length ?? 0) +
          ((spec as { layer?: { data: { values: unknown[] } }[] }).layer?.[0].data.values.length ??
            0),
      );
    });
  }

  it("a point layer with another shape, a tooltip, a stroke, a transform or an aggregate, or a point without a finite position, is left to vega", async () => {
    const base = specs[0][1] as { mark: object; encoding: object; data: { values: object[] } };
    const variants = [
      { ...base, mark: { ...MARK, shape: "square" } },
      { ...base, mark: { ...MARK, strokeWidth: 1 } },
      { ...base, encoding: { ...base.encoding, tooltip: { field: "kind" } } },
      { ...base, encoding: { ...base.encoding, shape: { field: "kind", type: "nominal" } } },
      { ...base, data: { values: [...base.data.values, { x: Number.NaN, y: 1, kind: "a" }] } },
      { ...base, transform: [{ filter: "datum.x > 0" }] },
      {
        ...base,
        encoding: { ...base.encoding, y: { field: "y", type: "quantitative", aggregate: "max" } },
      },
    ] as TopLevelSpec[];
    for (const spec of variants) {
      expect(await renderScatterSvg(spec)).toBeNull();
      expect(await renderSvg(spec)).toBe(await renderSvgWithVega(spec));
    }
  });
});

describe("the dispersion trend's vertices", () => {
  it("every gene's below the cap; else a subsequence from the first to the last, each gene left out within 1/2560 of the x range (log) of the vertex kept before it", () => {
    const few = Array.from({ length: 100 }, (_, i) => ({ x: i + 1, y: 1 / (i + 1) }));
    expect(trendVertices(few)).toBe(few);
    const rng = seededRandom(3);
    const xs = Array.from({ length: 35000 }, () => Math.exp(rng.normal(5, 2.5))).sort(
      (a, b) => a - b,
    );
    const all = xs.map((x) => ({ x, y: 0.05 + 2 / x }));
    const kept = new Set(trendVertices(all));
    expect(kept.size).toBeLessThanOrEqual(2561);
    expect(kept.size).toBeGreaterThan(1000);
    expect(kept.has(all[0]) && kept.has(all[all.length - 1])).toBe(true);
    expect([...kept]).toEqual(all.filter((v) => kept.has(v)));
    const step = (Math.log10(all[all.length - 1].x) - Math.log10(all[0].x)) / 2560;
    let last = all[0];
    let worst = 0;
    for (const v of all) {
      if (kept.has(v)) last = v;
      else worst = Math.max(worst, Math.log10(v.x) - Math.log10(last.x));
    }
    expect(worst).toBeLessThan(step);
  });
});

describe("a point's position in a merged path", () => {
  it("is toFixed's text to a tenth of the hundredth (the integer path's digits, ties and signs included)", () => {
    const rng = seededRandom(11);
    const values: number[] = [0, -0, 1e6, -1e6, 1e6 - 0.005, 5e-324, -5e-324, 0.95, 9.95, 99.95];
    // Positions of every scale, and every multiple of a thousandth up to ±200 (the hundredths'
    // and tenths' ties of decimal text) with its neighbours on both sides.
    for (let i = 0; i < 300_000; i++)
      values.push((rng.uniform() - 0.3) * 10 ** (7 * rng.uniform() - 2));
    for (let k = -200_000; k <= 200_000; k++) {
      const v = k / 1000;
      values.push(v, v + 1e-12, v - 1e-12, k / 100 + 0.005);
    }
    const wrong = values.filter((v) => pointPosition(v) !== pointPositionByText(v));
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(values.length).toBeGreaterThan(1_900_000);
    // The reference itself: a hundredth first, then its tenth, no "-0", no ".0".
    expect(
      ["12.35", "12.25", "-0.004", "0.05", "-12.96", "640"].map((v) =>
        pointPositionByText(Number(v)),
      ),
    ).toEqual(["12.3", "12.3", "0", "0.1", "-13", "640"]);
  });
});
