/**
 * The report on a thread of its own (src/reports/reportThread.ts; its entry is the build's,
 * `npm run build`): the page writeReport writes on the calling thread, with or without a
 * dispersion plot drawn ahead, whose numbers are the report's or not; failures reach the caller.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type ReportDispersions, renderReport } from "../../src/reports/html.js";
import { ReportThread } from "../../src/reports/reportThread.js";
import { syntheticRunReport } from "../helpers/reportInput.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const temp = useTempFolder("fedseq-report-thread-");

describe("ReportThread", () => {
  const input = syntheticRunReport(1200);
  const dispersions = input.dispersions as ReportDispersions;

  it("writes the page renderReport makes, with the dispersion plot drawn ahead or not", async () => {
    const expected = await renderReport(input);
    // Views into larger buffers, as a run's arrays may be: sent as their own numbers.
    const view = (a: ArrayLike<number>) => {
      const big = new Float64Array(a.length + 10);
      big.set(Array.from(a), 5);
      return big.subarray(5, 5 + a.length);
    };
    const moved = Float64Array.from(dispersions.final);
    const g = moved.findIndex((x) => x > 0);
    moved[g] *= 1.5;
    const cases: [string, ((t: ReportThread) => void) | null][] = [
      ["no plot ahead", null],
      [
        "the report's numbers ahead",
        (t) => t.dispersionsEstimated({ baseMean: view(input.baseMean), dispersions }),
      ],
      [
        "other numbers ahead (a refit changed one)",
        (t) =>
          t.dispersionsEstimated({
            baseMean: input.baseMean,
            dispersions: { ...dispersions, final: moved },
          }),
      ],
    ];
    for (const [name, ahead] of cases) {
      const dir = temp.subdir(name.replace(/\W+/g, "-"));
      const thread = ReportThread.start();
      ahead?.(thread);
      const file = join(dir, "report.html");
      let tables = false;
      await thread.writeAlongside(file, input, () => {
        tables = true;
      });
      expect(tables, name).toBe(true);
      expect(readFileSync(file, "utf8"), name).toBe(expected);
      expect(readdirSync(dir), name).toEqual(["report.html"]);
    }
  });

  it("rejects with the report's error and writes nothing; a table's error waits for the report", async () => {
    const dir = temp.subdir("failures");
    const bad = { ...input, lfc: new Float64Array(3) };
    const thread = ReportThread.start();
    await expect(thread.write(join(dir, "report.html"), bad)).rejects.toThrow(
      /lfc has 3 entries, genes has 1200/,
    );
    await expect(thread.write(join(dir, "report.html"), input)).rejects.toThrow(/one report/);
    expect(readdirSync(dir)).toEqual([]);

    const file = join(dir, "with-tables.html");
    await expect(
      ReportThread.start().writeAlongside(file, input, () => {
        throw new Error("disk full");
      }),
    ).rejects.toThrow("disk full");
    // The report was finished before the error came back: no thread writes behind it.
    expect(existsSync(file)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("an unused thread ends on close, and an unreachable folder fails the report", async () => {
    ReportThread.start().close();
    await expect(
      ReportThread.start().write(join(temp.dir, "missing", "report.html"), input),
    ).rejects.toThrow(/ENOENT/);
  });
});
