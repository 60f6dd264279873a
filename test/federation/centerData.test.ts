/**
 * What a center loads: `fedseq center --data DIR` reads a pooled trial folder (a `center`
 * column; it keeps its own samples) or a hospital's own folder (no `center` column: every
 * sample is its own).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { centerDataFromDataset, loadCenterData } from "../../src/federation/centerData.js";
import { readDataset } from "../../src/io/dataset.js";
import { sharedPath } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-center-data-");

describe("loadCenterData from a folder", () => {
  it("a hospital's own folder (no center column) is read as that center's: the same data as its slice of the pooled folder", async () => {
    const shared = sharedPath("data", "outliers_sim");
    const pooled = await readDataset(shared);
    const expected = centerDataFromDataset(pooled, "lab_2");
    // lab_2's own files: its sample columns of counts.csv, its rows of metadata.csv without
    // the center column.
    const countLines = readFileSync(join(shared, "counts.csv"), "utf8").trimEnd().split("\n");
    const header = countLines[0].split(",");
    const keep = header.flatMap((name, j) =>
      j === 0 || expected.samples.includes(name) ? [j] : [],
    );
    const own = countLines.map((line) => {
      const fields = line.split(",");
      return keep.map((j) => fields[j]).join(",");
    });
    tmp.write("lab_2/counts.csv", `${own.join("\n")}\n`);
    const metaLines = readFileSync(join(shared, "metadata.csv"), "utf8").trimEnd().split("\n");
    const centerAt = metaLines[0].split(",").indexOf("center");
    const ownMeta = metaLines
      .filter((line, i) => i === 0 || line.split(",")[centerAt] === "lab_2")
      .map((line) =>
        line
          .split(",")
          .filter((_, j) => j !== centerAt)
          .join(","),
      );
    tmp.write("lab_2/metadata.csv", `${ownMeta.join("\n")}\n`);

    const loaded = await loadCenterData({
      kind: "dataset",
      dir: join(tmp.dir, "lab_2"),
      name: "lab_2",
    });
    expect(loaded.name).toBe("lab_2");
    expect(loaded.samples).toEqual(expected.samples);
    expect(loaded.genes).toEqual(expected.genes);
    expect(loaded.counts).toEqual(expected.counts);
    expect(loaded.metadata.values.get("condition")).toEqual(
      expected.metadata.values.get("condition"),
    );
    // The pooled folder still gives each center its own slice.
    const fromPooled = await loadCenterData({ kind: "dataset", dir: shared, name: "lab_2" });
    expect(fromPooled.counts).toEqual(expected.counts);
  });
});
