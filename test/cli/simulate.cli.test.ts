/**
 * `fedseq simulate` (the command object; main.ts registers it): flags, messages, and a
 * cohort that `bin/fedseq fit-lfc` fits directly, recovering the true fold changes.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { simulateCommand } from "../../src/cli/simulateCommand.js";
import { readCsv } from "../../src/io/csv.js";
import { InputError } from "../../src/io/errors.js";
import { runFedseqAsync } from "../helpers/processes.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-simulate-cli-");

/** Run `simulate` in-process with `args`; returns what it wrote to stderr. */
async function simulate(args: string[]): Promise<string> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    const cmd = simulateCommand().exitOverride();
    cmd.configureOutput({ writeErr: (s) => lines.push(s), writeOut: (s) => lines.push(s) });
    await cmd.parseAsync(args, { from: "user" });
  } finally {
    spy.mockRestore();
  }
  return lines.join("");
}

afterEach(() => {
  vi.restoreAllMocks();
});

function pearson(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

describe("fedseq simulate", () => {
  it("writes a cohort that fit-lfc fits, recovering the true log2 fold changes", async () => {
    const out = join(tmp.dir, "cohort");
    const message = await simulate([
      "--out",
      out,
      "--genes",
      "1000",
      "--samples",
      "24",
      "--centers",
      "3",
      "--seed",
      "17",
      "--de-fraction",
      "0.2",
    ]);
    expect(message).toMatch(
      /^fedseq: wrote 1000 genes × 24 samples in 3 centers \(200 differentially expressed, \d+ all-zero\) to /,
    );
    expect(message).toContain("fit it with: fedseq fit-lfc --data");
    for (const f of ["counts.csv", "metadata.csv", "truth/size_factors.csv"]) {
      expect(existsSync(join(out, f))).toBe(true);
    }

    const fitOut = join(tmp.dir, "fit");
    const fit = await runFedseqAsync([
      "fit-lfc",
      "--data",
      out,
      "--design",
      "~ condition",
      "--size-factors",
      join(out, "truth", "size_factors.csv"),
      "--dispersions",
      join(out, "truth", "dispersions.csv"),
      "--out",
      fitOut,
    ]);
    expect(fit.code, fit.stderr).toBe(0);
    const fitted = readCsv(join(fitOut, "lfc.csv"));
    const truth = readCsv(join(out, "truth", "lfc.csv"));
    const col = fitted.header.indexOf("condition_B_vs_A");
    expect(col).toBeGreaterThan(0);
    expect(truth.header[5]).toBe("condition_B_vs_A");
    const de: [number, number][] = [];
    const errors: number[] = [];
    truth.rows.forEach((row, g) => {
      const estimate = fitted.rows[g].fields[col];
      expect(fitted.rows[g].fields[0]).toBe(row.fields[0]);
      if (estimate === "") return;
      const t = Number(row.fields[5]);
      if (row.fields[2] === "true") de.push([t, Number(estimate)]);
      if (Number(row.fields[3]) > 50) errors.push(Math.abs(Number(estimate) - t));
    });
    expect(de.length).toBe(200);
    expect(
      pearson(
        de.map((p) => p[0]),
        de.map((p) => p[1]),
      ),
    ).toBeGreaterThan(0.95);
    errors.sort((a, b) => a - b);
    expect(errors.length).toBeGreaterThan(700);
    expect(errors[errors.length >> 1]).toBeLessThan(0.2);
  });

  it("takes --design-levels", async () => {
    const out = join(tmp.dir, "three");
    await simulate([
      ...["--out", out, "--genes", "5", "--samples", "9", "--centers", "3", "--seed", "0"],
      ...["--design-levels", "3"],
    ]);
    const meta = readCsv(join(out, "metadata.csv"));
    expect(meta.rows.map((r) => r.fields[1]).sort()).toEqual([
      "A",
      "A",
      "A",
      "B",
      "B",
      "B",
      "C",
      "C",
      "C",
    ]);
    expect(readCsv(join(out, "truth", "lfc.csv")).header.slice(4)).toEqual([
      "Intercept",
      "condition_B_vs_A",
      "condition_C_vs_A",
    ]);
  });

  it("rejects bad flags as user mistakes", async () => {
    const base = ["--out", join(tmp.dir, "bad"), "--genes", "5", "--centers", "2", "--seed", "1"];
    await expect(simulate([...base, "--samples", "3"])).rejects.toThrow(
      /--samples: 3 samples cannot give each of 2 centers all 2 conditions/,
    );
    await expect(simulate([...base, "--samples", "8", "--de-fraction", "2"])).rejects.toThrow(
      InputError,
    );
    await expect(simulate([...base, "--samples", "-4"])).rejects.toThrow(
      /--samples: must be a whole number ≥ 2/,
    );
    await expect(simulate(["--genes", "5"])).rejects.toThrow(/required option/);
    expect(existsSync(join(tmp.dir, "bad"))).toBe(false);
  });
});
