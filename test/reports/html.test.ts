/**
 * The HTML report without a browser: self-contained (no URL but SVG namespaces), escaped,
 * one point per drawable gene, atomic writing. (`html.browser.test.ts` renders it in Chromium.)
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  escapeHtml,
  formatFigure,
  pvalueHistogram,
  type ReportDispersions,
  renderDispersionFigure,
  renderReport,
  writeReport,
} from "../../src/reports/html.js";
import { compactSvg, mergePoints } from "../../src/reports/svg.js";
import { syntheticReport, syntheticRunReport, syntheticTests } from "../helpers/reportInput.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const temp = useTempFolder("fedseq-report-");

/** The inner HTML of `<figure id="…">`. */
function figure(html: string, id: string): string {
  const start = html.indexOf(`<figure id="${id}">`);
  expect(start, `figure ${id}`).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf("</figure>", start));
}

/**
 * Number of points of the scatter's symbol mark in a figure: a path each, or a merged run
 * (`class="points"`) of one "M x y h0" each.
 */
function pointMarks(svg: string): number {
  const start = svg.indexOf('<g class="mark-symbol role-mark');
  expect(start).toBeGreaterThanOrEqual(0);
  const group = svg.slice(start, svg.indexOf("</g>", start));
  let points = 0;
  for (const tag of group.match(/<path [^>]*>/g) ?? []) {
    points += tag.includes('class="points"') ? (tag.match(/M[^M]*h0/g)?.length ?? 0) : 1;
  }
  return points;
}

describe("renderReport", () => {
  const { input, maPoints, referencePoints } = syntheticReport(2000);

  it("is self-contained: no URL except SVG namespace declarations, no script", async () => {
    const html = await renderReport(input);
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    const urls = [...html.matchAll(/https?:\/\/[^\s"'<>)]*/g)];
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) {
      const before = html.slice(Math.max(0, (url.index ?? 0) - 13), url.index);
      expect(before, url[0]).toMatch(/xmlns(:xlink)?="$/);
    }
    const withoutNamespaces = html.replace(/ xmlns(:xlink)?="http:\/\/www\.w3\.org\/[^"]*"/g, "");
    expect(withoutNamespaces).not.toMatch(/https?:|\/\/[a-z]/i);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|@import|url\(/i);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    );
  });

  it("draws one point per drawable gene, in both scatter plots", async () => {
    const html = await renderReport(input);
    expect(maPoints).toBe(1846);
    expect(referencePoints).toBe(1836);
    expect(pointMarks(figure(html, "ma-plot"))).toBe(maPoints);
    expect(pointMarks(figure(html, "reference-plot"))).toBe(referencePoints);
    expect(figure(html, "ma-plot")).toContain(
      "1,846 genes drawn (1,823 irls, 19 pqn, 4 pqn-flagged), every fitted gene with a positive mean; 154 not drawn",
    );
    // The rounds chart: one line per phase, one point per round.
    const rounds = figure(html, "rounds-plot");
    expect(rounds.match(/<g class="mark-line role-mark[^"]*"[^>]*>/g)?.length).toBe(3);
    expect(rounds).toContain("52 rounds in 3 phases (init, irls, pqn)");
    expect(pointMarks(rounds)).toBe(52);
  });

  it("has the summary table, with numbers for people", async () => {
    const html = await renderReport(input);
    expect(html).toContain(
      '<tr><th scope="row">bytes to aggregator</th><td class="value">123,456,789</td></tr>',
    );
    expect(html).toContain('<tr><th scope="row">seconds</th><td class="value">12.35</td></tr>');
    expect(html).toContain('<tr><th scope="row">mode</th><td class="value">irls-pqn</td></tr>');
  });

  it("leaves the reference plot out when there is no reference", async () => {
    const html = await renderReport({ ...input, reference: undefined });
    expect(html).not.toContain('id="reference-plot"');
    expect(html).toContain('id="ma-plot"');
  });

  it("escapes user text, in HTML and in the SVG", async () => {
    const html = await renderReport({
      ...input,
      title: `<script>alert("x")</script> & co`,
      coefficient: "a<b&c",
      summary: { "<k>": "<v>" },
    });
    expect(html).not.toContain("<script>");
    expect(html).toContain(
      "<title>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co</title>",
    );
    expect(html).toContain("&lt;k&gt;");
    expect(html).not.toContain("a<b&c");
    expect(html).toMatch(/log2 fold change \(a&lt;b&amp;c\)/);
  });

  it("rejects per-gene arrays of the wrong length", async () => {
    await expect(renderReport({ ...input, lfc: new Float64Array(3) })).rejects.toThrow(
      "renderReport: lfc has 3 entries, genes has 2000",
    );
  });
});

describe("helpers", () => {
  it("formatFigure, escapeHtml, compactSvg", () => {
    expect([34356, -1234567, 0, 12.34567, 1e-7, "x", Number.NaN].map(formatFigure)).toEqual([
      "34,356",
      "-1,234,567",
      "0",
      "12.35",
      "1e-7",
      "x",
      "NaN",
    ]);
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
    );
    expect(
      compactSvg(
        '<path transform="translate(340.92555434788784,-1.5e-7)" d="M1,0" stroke-width="0"/><path stroke="#000" stroke-width="0"/>',
      ),
    ).toBe(
      '<path transform="translate(340.93,0)" d="M1,0"/><path stroke="#000" stroke-width="0"/>',
    );
    // Points as vega writes them (a zero stroke width, full precision): merged, each position
    // to a hundredth and then a tenth of a pixel (1.249 -> 1.25 -> 1.3), the rest of the group
    // compacted as any tag.
    const point = (x: number, y: number) =>
      `<path transform="translate(${x},${y})" d="M1,0A1,1,0,1,1,-1,0A1,1,0,1,1,1,0" fill="#9d9d9d" stroke-width="0" opacity="0.5"/>`;
    expect(
      compactSvg(
        `<g class="mark-symbol role-mark marks">${point(1.249, 2.0000001)}${point(-0.04, 7.96)}<path transform="translate(0.123456,1)" d="M2,0" stroke-width="0"/></g>`,
      ),
    ).toBe(
      '<g class="mark-symbol role-mark marks"><path class="points" d="M1.3 2h0M0 8h0" fill="none" stroke="#9d9d9d" stroke-width="2" stroke-linecap="round" stroke-opacity="0.5"/><path transform="translate(0.12,1)" d="M2,0"/></g>',
    );
  });
});

describe("mergePoints", () => {
  it("draws each run of like circles as one path of zero-length round-capped segments", () => {
    const circle = (x: number, y: number, r: number, fill: string) =>
      `<path transform="translate(${x},${y})" d="M${r},0A${r},${r},0,1,1,-${r},0A${r},${r},0,1,1,${r},0" fill="${fill}" opacity="0.6"/>`;
    const svg =
      '<g class="mark-symbol role-mark layer_1_marks" aria-hidden="true">' +
      circle(1.26, 2, 2, "#9d9d9d") +
      circle(3, 4.04, 2, "#9d9d9d") +
      circle(5, 6, 2, "#e45756") +
      '<path transform="translate(7,8)" d="M2,0" stroke="#000"/>' +
      circle(9, 10, 3, "#e45756") +
      "</g>" +
      // Not a data mark: a legend's symbols stay as they are.
      `<g class="mark-symbol role-legend-symbol">${circle(1, 1, 2, "#000")}</g>`;
    expect(mergePoints(svg)).toBe(
      '<g class="mark-symbol role-mark layer_1_marks" aria-hidden="true">' +
        '<path class="points" d="M1.3 2h0M3 4h0" fill="none" stroke="#9d9d9d" stroke-width="4" stroke-linecap="round" stroke-opacity="0.6"/>' +
        '<path class="points" d="M5 6h0" fill="none" stroke="#e45756" stroke-width="4" stroke-linecap="round" stroke-opacity="0.6"/>' +
        '<path transform="translate(7,8)" d="M2,0" stroke="#000"/>' +
        '<path class="points" d="M9 10h0" fill="none" stroke="#e45756" stroke-width="6" stroke-linecap="round" stroke-opacity="0.6"/>' +
        "</g>" +
        `<g class="mark-symbol role-legend-symbol">${circle(1, 1, 2, "#000")}</g>`,
    );
  });
});

describe("writeReport", () => {
  it("writes the rendered page atomically, leaving no temporary file", async () => {
    const { input } = syntheticReport(200);
    const dir = temp.subdir("write");
    const file = join(dir, "report.html");
    await writeReport(file, input);
    expect(readFileSync(file, "utf8")).toBe(await renderReport(input));
    expect(readdirSync(dir)).toEqual(["report.html"]);
    await expect(writeReport(join(dir, "missing", "report.html"), input)).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual(["report.html"]);
  });
});

describe("the top-genes table", () => {
  const { input } = syntheticReport(6);
  const tests = {
    contrast: "condition B vs A",
    alpha: 0.1,
    baseMean: [10, 20, 30, 40, 50, 60],
    log2FoldChange: [1.5, -2, 0.25, 3, 0, -1],
    lfcSE: [0.5, 0.4, 0.3, 0.2, 0.1, 0.6],
    stat: [3, -5, 0.8333, 15, 0, -1.6667],
    pvalue: [0.0027, 5.7e-7, 0.4, 0, 1, Number.NaN],
    padj: [0.005, 1.4e-6, 0.5, 0, 1, Number.NaN],
  };

  it("lists the genes by padj, ties by |stat|, with lfcSE and stat, p-values written as numbers", async () => {
    const html = await renderReport({ ...input, tests });
    const table = html.slice(
      html.indexOf('<table id="top-genes">'),
      html.indexOf("</table>", html.indexOf('<table id="top-genes">')),
    );
    expect(table).toContain(
      "<th>gene</th><th>baseMean</th><th>log2FoldChange</th><th>lfcSE</th><th>stat</th><th>pvalue</th><th>padj</th>",
    );
    const rows = [...table.matchAll(/<tr><th scope="row">([^<]*)<\/th>(.*?)<\/tr>/g)].map((m) => [
      m[1],
      ...[...m[2].matchAll(/<td class="value">([^<]*)<\/td>/g)].map((c) => c[1]),
    ]);
    // Gene 5 has no p-value: not listed. padj 0 first, then 1.4e-6, 0.005, 0.5, 1.
    expect(rows.map((r) => r[0])).toEqual([3, 1, 0, 2, 4].map((g) => input.genes[g]));
    expect(rows[0].slice(1)).toEqual(["40.00", "3.000", "0.2000", "15.00", "0", "0"]);
    expect(rows[1].slice(5)).toEqual(["5.7e-7", "1.4e-6"]);
    expect(rows[2].slice(5)).toEqual(["0.00270", "0.00500"]);
  });

  it("breaks ties in padj by the largest |stat| (p-values that underflow to 0)", async () => {
    const tied = { ...tests, padj: [0, 0, 0, 0, 0, Number.NaN], stat: [3, -5, 0.8, 15, 0, 1] };
    const html = await renderReport({ ...input, tests: tied });
    const order = [...html.matchAll(/<tr><th scope="row">([^<]*)<\/th>/g)].map((m) => m[1]);
    expect(order.slice(-5)).toEqual([3, 1, 0, 2, 4].map((g) => input.genes[g]));
  });
});

describe("the p-value histogram", () => {
  it("counts the p-values in 20 bins of 0.05 (1 in the last), leaving out genes without one", () => {
    const counts = pvalueHistogram([0, 0.049999, 0.05, 0.5, 0.999, 1, Number.NaN, -1, 1.5]);
    expect(Array.from(counts)).toEqual([
      2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2,
    ]);
  });

  it("is drawn with one bar per bin in a run's report", async () => {
    const { input } = syntheticReport(6);
    const pvalue = [0.001, 0.02, 0.3, 0.31, 0.9, Number.NaN];
    const html = await renderReport({
      ...input,
      tests: {
        contrast: "condition B vs A",
        alpha: 0.1,
        baseMean: [1, 2, 3, 4, 5, 6],
        log2FoldChange: [1, 1, 1, 1, 1, 1],
        lfcSE: [1, 1, 1, 1, 1, 1],
        stat: [1, 1, 1, 1, 1, 1],
        pvalue,
        padj: pvalue,
      },
    });
    const svg = figure(html, "pvalue-histogram");
    const start = svg.indexOf('<g class="mark-rect role-mark');
    expect(start).toBeGreaterThanOrEqual(0);
    expect(svg.slice(start, svg.indexOf("</g>", start)).match(/<path /g)?.length).toBe(20);
    expect(html).toContain("5 genes with a p-value (condition B vs A), in bins of 0.05.");
  });
});

describe("the MA plot of a run", () => {
  it("colours the genes by padj (significant ones in red, drawn last), every drawable gene once", async () => {
    const { input, maPoints } = syntheticReport(2000);
    const n = input.genes.length;
    const padj = Float64Array.from({ length: n }, (_, g) =>
      g % 3 === 0 ? 0.01 : g % 3 === 1 ? 0.5 : Number.NaN,
    );
    const ones = new Float64Array(n).fill(1);
    const html = await renderReport({
      ...input,
      tests: syntheticTests(input, { lfcSE: ones, stat: ones, pvalue: padj, padj }),
    });
    const svg = figure(html, "ma-plot");
    expect(pointMarks(svg)).toBe(maPoints);
    // The legend names the three groups, the significant one by the threshold.
    for (const label of ["padj &lt; 0.1", "not significant", "no padj"])
      expect(svg).toContain(label);
    const caption =
      /(\d[\d,]*) with padj &lt; 0\.1 \(red\), (\d[\d,]*) not, (\d[\d,]*) without padj/.exec(
        html.slice(html.indexOf('<figure id="ma-plot">')),
      );
    expect(caption).not.toBeNull();
    const counts = (caption as RegExpExecArray).slice(1, 4).map((x) => Number(x.replace(/,/g, "")));
    expect(counts[0] + counts[1] + counts[2]).toBe(maPoints);
    expect(Math.min(...counts)).toBeGreaterThan(500);
  });
});

describe("a dispersion plot drawn ahead", () => {
  const input = syntheticRunReport(1500);
  const dispersions = input.dispersions as ReportDispersions;
  /** The same numbers in arrays of their own, as a report thread receives them. */
  const copy = () => ({
    baseMean: Float64Array.from(input.baseMean),
    dispersions: {
      genewise: Float64Array.from(dispersions.genewise),
      trend: Float64Array.from(dispersions.trend),
      final: Float64Array.from(dispersions.final),
    },
  });
  const marker = '<svg id="drawn-ahead"></svg>';

  it("is the figure renderReport draws from the same numbers", async () => {
    const page = await renderReport(input);
    const drawn = await renderDispersionFigure(copy());
    expect(figure(page, "dispersion-plot")).toContain(drawn);
    expect(drawn.length).toBeGreaterThan(10_000);
  });

  it("is used when drawn from the same numbers, and drawn again when one differs", async () => {
    const same = await renderReport(input, { dispersionFigure: { source: copy(), svg: marker } });
    expect(figure(same, "dispersion-plot")).toContain(marker);
    const plain = await renderReport(input);
    expect(same.replace(marker, "")).toBe(
      plain.replace(
        figure(plain, "dispersion-plot"),
        figure(same, "dispersion-plot").replace(marker, ""),
      ),
    );
    // One final dispersion a unit in the last place away (a refit after Cook's outliers changes
    // some), a mean, a sign of zero: the report draws the plot itself.
    const g = Array.from(dispersions.final).findIndex((x) => x > 0);
    const moved = copy();
    moved.dispersions.final[g] *= 1 + 2 ** -52;
    const shifted = copy();
    shifted.baseMean[g] *= 1 + 2 ** -52;
    for (const source of [moved, shifted]) {
      const page = await renderReport(input, { dispersionFigure: { source, svg: marker } });
      expect(page).not.toContain(marker);
      expect(page).toBe(plain);
    }
    // vega drawing every mark is the reference: never given a figure drawn otherwise.
    const byVega = await renderReport(input, {
      everyMarkByVega: true,
      dispersionFigure: { source: copy(), svg: marker },
    });
    expect(byVega).not.toContain(marker);
  });
});
