/**
 * `fedseq run --data` with secure aggregation (the default) and with `--no-secure-aggregation`
 * give the same files, byte for byte. Both runs pool every summed field into its correctly
 * rounded exact sum over centers: the clear run with `exactSum`, the masked one by decoding the
 * ring sums of each value's two parts (its multiple of the field's scale and the remainder), which
 * carry every double from ~1e-56 of the field's bound up exactly. Before values were split,
 * li_lncap's files differed by up to 1.5e-8 relative and one bodymap gene's dispersion flipped.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultRunArgs, runFedseqAsync, sharedDefaultRun } from "../helpers/processes.js";
import { sharedPath } from "../helpers/shared.js";
import { sharedSubset } from "../helpers/subsets.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-secure-run-");

const FILES = ["size_factors.csv", "dispersions.csv", "lfc.csv", "results.csv"];

/** README's table (secure aggregation): MB to the aggregator, masked and in clear. */
const README_MB: Record<string, { secure: number; clear: number }> = {
  outliers_sim: { secure: 52.1, clear: 12.6 },
  li_lncap: { secure: 344.7, clear: 82.6 },
};

describe("fedseq run with and without secure aggregation", () => {
  it.each([
    ["outliers_sim", "~ condition"],
    ["li_lncap", "~ treatment"],
  ])(
    "%s %s: every output file byte-identical; the bytes to the aggregator README's",
    async (dataset, design) => {
      const args = ["run", "--data", sharedPath("data", dataset), "--design", design];
      // The secure run is `run`'s default, also checked by run.cli, run.deseq2 and
      // grpc.processes: made once per vitest run (sharedDefaultRun). The clear run beside it.
      expect(defaultRunArgs(dataset)).toEqual(args);
      const clearOut = join(tmp.dir, `${dataset}-clear`);
      const [secure, clear] = await Promise.all([
        sharedDefaultRun(dataset),
        runFedseqAsync([...args, "--out", clearOut, "--no-secure-aggregation"]),
      ]);
      expect(secure.code, secure.stderr).toBe(0);
      expect(clear.code, clear.stderr).toBe(0);
      const outs = { secure: secure.out, clear: clearOut };
      for (const file of FILES) {
        const a = readFileSync(join(outs.secure, file), "utf8");
        const b = readFileSync(join(outs.clear, file), "utf8");
        expect(a.split("\n").length, file).toBeGreaterThan(2);
        expect(a === b, `${file} differs`).toBe(true);
      }
      const bytes = (dir: string) =>
        JSON.parse(readFileSync(join(dir, "run.json"), "utf8")).bytes as {
          to_aggregator: number;
        };
      // Masked sums travel as 16-byte ring elements, two per value: more bytes to the aggregator,
      // as many as README's table says (to its 0.1 MB).
      const mb = (dir: string) => Math.round(bytes(dir).to_aggregator / 1e5) / 10;
      expect({ secure: mb(outs.secure), clear: mb(outs.clear) }).toEqual(README_MB[dataset]);
    },
  );
});

describe("fedseq run and plan with a number of centers secure aggregation does not take", () => {
  it("one center: exit 2 before any round, one line saying secure aggregation needs 2 and the way out; nothing written; in clear the run goes on", async () => {
    // A sweep found this an uncaught SecureAggregationError: a stack trace and exit 1.
    const dir = sharedSubset(tmp, "outliers_sim", 50);
    const metadata = readFileSync(join(dir, "metadata.csv"), "utf8").trimEnd().split("\n");
    const oneCenter = metadata.map((line, i) =>
      i === 0 ? line : line.replace(/lab_\d$/, "lab_1"),
    );
    tmp.write("outliers_sim-50-genes/metadata.csv", `${oneCenter.join("\n")}\n`);
    const out = join(tmp.dir, "one-center-out");
    const run = await runFedseqAsync([
      "run",
      "--data",
      dir,
      "--design",
      "~ condition",
      "--out",
      out,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^fedseq: 1 center: secure aggregation needs at least 2 .*--no-secure-aggregation\)\n$/,
    );
    expect(existsSync(out)).toBe(false);
    const clear = await runFedseqAsync([
      "run",
      ...["--data", dir, "--design", "~ condition", "--out", join(tmp.dir, "one-center-clear")],
      ...["--no-secure-aggregation", "--min-cell", "1", "--quiet"],
    ]);
    expect(clear.code, clear.stderr).toBe(0);
  });

  it("70 centers: exit 2 before any round, one line naming the limit and the way out; nothing written; in clear the run goes on", async () => {
    // 70 centers of 4 samples (2 A, 2 B), 3 genes.
    const samples = Array.from({ length: 280 }, (_, i) => `s${i}`);
    const counts = [`gene,${samples.join(",")}`];
    for (let g = 0; g < 3; g++)
      counts.push(`g${g},${samples.map((_, i) => 5 + ((i * 7 + g * 3) % 11)).join(",")}`);
    const metadata = [
      "sample,center,condition",
      ...samples.map((s, i) => `${s},c${Math.floor(i / 4)},${i % 2 === 0 ? "A" : "B"}`),
    ];
    const data = join(tmp.dir, "centers70");
    tmp.write("centers70/counts.csv", `${counts.join("\n")}\n`);
    tmp.write("centers70/metadata.csv", `${metadata.join("\n")}\n`);
    const args = ["--data", data, "--design", "~ condition"];
    const limit =
      /^fedseq: 70 centers: secure aggregation takes at most 64 .*--no-secure-aggregation.*\n$/;
    const out = join(tmp.dir, "centers70-out");
    const run = await runFedseqAsync(["run", ...args, "--out", out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(limit);
    expect(existsSync(out)).toBe(false);
    const plan = await runFedseqAsync(["plan", ...args, "--out", join(tmp.dir, "plan70.json")]);
    expect(plan.code).toBe(2);
    expect(plan.stderr).toMatch(limit);
    const clear = await runFedseqAsync([
      "run",
      ...args,
      "--out",
      join(tmp.dir, "centers70-clear"),
      "--no-secure-aggregation",
      "--min-cell",
      "1",
      "--quiet",
    ]);
    expect(clear.code, clear.stderr).toBe(0);
  });
});
