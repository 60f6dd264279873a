/**
 * `fedseq run --data` with secure aggregation (the default) and with `--no-secure-aggregation`
 * give the same files, byte for byte. Both runs pool every summed field into its correctly
 * rounded exact sum over centers: the clear run with `exactSum`, the masked one by decoding the
 * ring sums of each value's two parts (its multiple of the field's scale and the remainder), which
 * carry every double from ~1e-56 of the field's bound up exactly. Before values were split,
 * li_lncap's files differed by up to 1.5e-8 relative and one bodymap gene's dispersion flipped.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultRunArgs, runFedseqAsync, sharedDefaultRun } from "../helpers/processes.js";
import { sharedPath } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-secure-run-");

const FILES = ["size_factors.csv", "dispersions.csv", "lfc.csv", "results.csv"];

describe("fedseq run with and without secure aggregation", () => {
  it.each([
    ["outliers_sim", "~ condition"],
    ["li_lncap", "~ treatment"],
  ])("%s %s: every output file byte-identical", async (dataset, design) => {
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
    // Masked sums travel as 16-byte ring elements, two per value: more bytes to the aggregator.
    expect(bytes(outs.secure).to_aggregator).toBeGreaterThan(bytes(outs.clear).to_aggregator);
  });
});
