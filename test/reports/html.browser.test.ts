/**
 * The HTML report as a person sees it: opened in headless Chromium (Debian's `chromium`,
 * required: the test fails when it is missing), every plot is laid out with visible marks,
 * the MA plot has one point per drawable gene, points are where the browser hit-tests them,
 * and the page loads nothing from anywhere.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeReport } from "../../src/reports/html.js";
import { probePage } from "../helpers/chromium.js";
import { syntheticReport } from "../helpers/reportInput.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const temp = useTempFolder("fedseq-report-browser-");

/** What the probe measures of each figure. */
interface FigureProbe {
  id: string;
  isSvg: boolean;
  width: number;
  height: number;
  paths: number;
  texts: number;
  /** Points of the scatter plots (of their symbol marks, legends excluded). */
  points: number;
  /** Point marks whose box lies inside the SVG's box. */
  pointsInside: number;
  /** Of up to 200 sampled points, those the browser hit-tests to a point of this SVG. */
  hitTested: number;
  sampled: number;
  lineMarks: number;
}

interface PageProbe {
  title: string;
  figures: FigureProbe[];
  resources: number;
  tableRows: number;
}

/** Runs in the report's document (see test/helpers/chromium.ts). */
const PROBE = `
const figures = [...document.querySelectorAll("figure")].map((figure) => {
  const svg = figure.querySelector("svg");
  const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0, left: 0, top: 0, right: 0, bottom: 0 };
  // Every point's box on the page: a point path's own box, or, in a merged run of points
  // (class "points": "M x y h0" per point, a round cap of the stroke's width), each disc's.
  const points = [];
  for (const path of svg ? svg.querySelectorAll("g.mark-symbol.role-mark > path") : []) {
    if (!path.classList.contains("points")) {
      points.push(path.getBoundingClientRect());
      continue;
    }
    const ctm = path.getScreenCTM();
    const radius = (Number(path.getAttribute("stroke-width")) / 2) * Math.hypot(ctm.a, ctm.b);
    for (const [, x, y] of path.getAttribute("d").matchAll(/M(-?[0-9.]+) (-?[0-9.]+)h0/g)) {
      const c = new DOMPoint(Number(x), Number(y)).matrixTransform(ctm);
      points.push({ left: c.x - radius, right: c.x + radius, top: c.y - radius, bottom: c.y + radius, width: 2 * radius, height: 2 * radius });
    }
  }
  let inside = 0;
  for (const r of points) {
    if (r.width > 0 && r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom) inside++;
  }
  const step = Math.max(1, Math.floor(points.length / 200));
  let sampled = 0;
  let hit = 0;
  for (let k = 0; k < points.length; k += step) {
    const r = points[k];
    const target = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
    sampled++;
    if (target && target.tagName === "path" && target.closest("svg") === svg && target.parentElement.matches("g.mark-symbol.role-mark")) hit++;
  }
  return {
    id: figure.id,
    isSvg: svg instanceof window.SVGSVGElement,
    width: box.width,
    height: box.height,
    paths: svg ? svg.querySelectorAll("path").length : 0,
    texts: svg ? svg.querySelectorAll("text").length : 0,
    points: points.length,
    pointsInside: inside,
    hitTested: hit,
    sampled,
    lineMarks: svg ? svg.querySelectorAll("g.mark-line.role-mark > path").length : 0,
  };
});
return {
  title: document.title,
  figures,
  resources: window.performance.getEntriesByType("resource").length,
  tableRows: document.querySelectorAll("#summary tr").length,
};
`;

async function openReport(genes: number): Promise<{ probe: PageProbe; ma: number; ref: number }> {
  const { input, maPoints, referencePoints } = syntheticReport(genes);
  const dir = temp.subdir(`report-${genes}`);
  const file = join(dir, "report.html");
  await writeReport(file, input);
  const probe = (await probePage(file, PROBE)) as PageProbe;
  return { probe, ma: maPoints, ref: referencePoints };
}

function checkFigures(probe: PageProbe, ma: number, ref: number): void {
  // The analysis first; how the federation ran (rounds) last.
  expect(probe.figures.map((f) => f.id)).toEqual(["ma-plot", "reference-plot", "rounds-plot"]);
  for (const f of probe.figures) {
    expect(f.isSvg, f.id).toBe(true);
    expect(f.width, f.id).toBeGreaterThan(300);
    expect(f.height, f.id).toBeGreaterThan(200);
    expect(f.paths, f.id).toBeGreaterThan(0);
    expect(f.texts, f.id).toBeGreaterThan(10);
    // Every point is laid out inside its plot, and the browser finds the sampled ones there.
    expect(f.pointsInside, f.id).toBe(f.points);
    expect(f.hitTested, f.id).toBe(f.sampled);
  }
  const [maPlot, refPlot, rounds] = probe.figures;
  expect(rounds.points).toBe(52);
  expect(rounds.lineMarks).toBe(3);
  expect(maPlot.points).toBe(ma);
  expect(refPlot.points).toBe(ref);
  expect(probe.resources).toBe(0);
}

describe("the report in headless Chromium", () => {
  it("renders every plot, with one MA point per drawable gene (2,000 genes)", async () => {
    const { probe, ma, ref } = await openReport(2000);
    expect(probe.title).toBe("Synthetic fit");
    expect(probe.tableRows).toBe(5);
    expect(ma).toBe(1846);
    checkFigures(probe, ma, ref);
  });

  it("renders a report of 34,356 genes, all drawn", async () => {
    const { probe, ma, ref } = await openReport(37_219);
    expect(ma).toBe(34_356);
    checkFigures(probe, ma, ref);
  });
});
