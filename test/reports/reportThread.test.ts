/**
 * The report on a thread of its own (src/reports/reportThread.ts; its entry is the build's,
 * `npm run build`): the page renderReport makes on the calling thread, with or without a
 * dispersion plot drawn ahead, whose numbers are the report's or not; failures reach the caller
 * and never leave the process waiting.
 */
import { readdirSync, readFileSync } from "node:fs";
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
      [
        "numbers the plot cannot be drawn from (the report draws it)",
        (t) =>
          t.dispersionsEstimated({
            baseMean: input.baseMean,
            dispersions: { ...dispersions, final: null as unknown as Float64Array },
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

  it("rejects with the report's error; a table's error comes once the thread has answered, with no report", async () => {
    const dir = temp.subdir("failures");
    const bad = { ...input, lfc: new Float64Array(3) };
    const thread = ReportThread.start();
    await expect(thread.writeAlongside(join(dir, "report.html"), bad, () => {})).rejects.toThrow(
      /lfc has 3 entries, genes has 1200/,
    );
    await expect(thread.render(input)).rejects.toThrow(/one report/);
    await expect(
      ReportThread.start().writeAlongside(join(dir, "with-tables.html"), input, () => {
        throw new Error("disk full");
      }),
    ).rejects.toThrow("disk full");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("never leaves the caller waiting: a closed thread, input a message cannot carry, a missing folder", async () => {
    const closed = ReportThread.start();
    closed.close();
    await expect(closed.render(input)).rejects.toThrow(/closed/);
    const uncloneable = { ...input, summary: { f: (() => 1) as unknown as number } };
    await expect(ReportThread.start().render(uncloneable)).rejects.toThrow(/could not be cloned/);
    await expect(
      ReportThread.start().writeAlongside(
        join(temp.dir, "missing", "report.html"),
        input,
        () => {},
      ),
    ).rejects.toThrow(/ENOENT/);
  });
});
