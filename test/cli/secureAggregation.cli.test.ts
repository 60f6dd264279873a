/**
 * `fedseq run --data` with secure aggregation (the default) and with `--no-secure-aggregation`
 * on outliers_sim, full: every output file agrees. The masked run's sums are the correctly
 * rounded exact sums over centers, the clear run's the float sums in federation order, so the
 * two differ in the last bits of some sums; measured on this dataset the largest relative
 * difference of any cell is ~1e-11, on an LFC of ~5e-4 whose absolute difference is 5e-15.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runFedseqAsync } from "../helpers/processes.js";
import { sharedPath } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-secure-run-");

function table(file: string): string[][] {
  return readFileSync(file, "utf8")
    .trimEnd()
    .split("\n")
    .map((l) => l.split(","));
}

/** The largest relative difference of two CSV files' numeric cells (text cells must be equal). */
function maxRelative(a: string, b: string): number {
  const x = table(a);
  const y = table(b);
  expect(y.length).toBe(x.length);
  expect(y[0]).toEqual(x[0]);
  let worst = 0;
  for (let i = 1; i < x.length; i++) {
    for (let j = 0; j < x[i].length; j++) {
      const u = x[i][j];
      const v = y[i][j];
      if (u === v) continue;
      const fu = Number(u);
      const fv = Number(v);
      expect(Number.isFinite(fu) && Number.isFinite(fv), `${a} row ${i}: ${u} vs ${v}`).toBe(true);
      worst = Math.max(worst, Math.abs(fu - fv) / Math.max(Math.abs(fu), Math.abs(fv)));
    }
  }
  return worst;
}

describe("fedseq run with and without secure aggregation", () => {
  it("outliers_sim: every output agrees (relative differences in the last bits only)", async () => {
    const outs = { secure: join(tmp.dir, "secure"), clear: join(tmp.dir, "clear") };
    const args = (out: string) => [
      "run",
      "--data",
      sharedPath("data", "outliers_sim"),
      "--design",
      "~ condition",
      "--out",
      out,
      "--threads",
      "1",
    ];
    const secure = await runFedseqAsync(args(outs.secure));
    expect(secure.code, secure.stderr).toBe(0);
    const clear = await runFedseqAsync([...args(outs.clear), "--no-secure-aggregation"]);
    expect(clear.code, clear.stderr).toBe(0);
    const worst: Record<string, number> = {};
    for (const file of ["size_factors.csv", "dispersions.csv", "lfc.csv", "results.csv"]) {
      worst[file] = maxRelative(join(outs.clear, file), join(outs.secure, file));
      expect(worst[file], file).toBeLessThan(1e-9);
    }
    const bytes = (dir: string) =>
      JSON.parse(readFileSync(join(dir, "run.json"), "utf8")).bytes as {
        to_aggregator: number;
      };
    // Masked sums travel as 16-byte ring elements: more bytes to the aggregator.
    expect(bytes(outs.secure).to_aggregator).toBeGreaterThan(bytes(outs.clear).to_aggregator);
  }, 300_000);
});
