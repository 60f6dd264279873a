/**
 * `fedseq cells`: each center writes its own row of the plan's cell sizes from its data, and
 * `fedseq plan --cell-sizes` takes one file per center: the plan is the one `plan --data` writes
 * from the pooled folder, and the rows are the shared metadata's own tally.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useCliHost } from "../helpers/cliHost.js";
import { runFedseqAsync } from "../helpers/processes.js";
import { sharedSubset } from "../helpers/subsets.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-cells-");
const hosted = useCliHost();

const CENTERS = ["hospital_a", "hospital_b", "hospital_c"];

/** bodymap's metadata rows (sample, tissue, center), read as text: the test's own tally. */
function metadataRows(dir: string): string[][] {
  const [header, ...rows] = readFileSync(join(dir, "metadata.csv"), "utf8")
    .trimEnd()
    .split("\n")
    .map((line) => line.split(","));
  expect(header).toEqual(["sample", "tissue", "center"]);
  return rows;
}

/**
 * One folder per center of a pooled bodymap subset: its samples' columns of counts.csv and a
 * metadata.csv without a center column, as a hospital holds them.
 */
function centerFolders(pooled: string): Record<string, string> {
  const rows = metadataRows(pooled);
  const lines = readFileSync(join(pooled, "counts.csv"), "utf8").trimEnd().split("\n");
  const header = lines[0].split(",");
  const folders: Record<string, string> = {};
  for (const center of CENTERS) {
    const own = rows.filter((r) => r[2] === center).map((r) => r[0]);
    const columns = [0, ...own.map((s) => header.indexOf(s))];
    tmp.write(
      `${center}/counts.csv`,
      `${lines.map((line) => columns.map((c) => line.split(",")[c]).join(",")).join("\n")}\n`,
    );
    tmp.write(
      `${center}/metadata.csv`,
      `sample,tissue\n${rows
        .filter((r) => r[2] === center)
        .map((r) => `${r[0]},${r[1]}`)
        .join("\n")}\n`,
    );
    folders[center] = join(tmp.dir, center);
  }
  return folders;
}

/**
 * `fedseq plan` of `design` over `centers` with the factors' `levels`, from the row files, in
 * clear with k = 1 (all these tests' few samples allow), written to `out`.
 */
function planFromRows(
  design: string,
  levels: readonly string[],
  centers: readonly string[],
  files: readonly string[],
  out: string,
) {
  return hosted([
    "plan",
    "--design",
    design,
    ...levels.flatMap((l) => ["--levels", l]),
    "--centers",
    centers.join(","),
    ...files.flatMap((f) => ["--cell-sizes", f]),
    "--min-cell",
    "1",
    "--no-secure-aggregation",
    "--no-verify-requests",
    "--out",
    out,
  ]);
}

/** `fedseq plan --data` of the pooled folder `data`, `~ tissue`, k = 2, written to `out`. */
function trialPlan(data: string, out: string) {
  return hosted(["plan", "--data", data, "--design", "~ tissue", "--min-cell", "2", "--out", out]);
}

describe("fedseq cells", () => {
  const pooled = sharedSubset(tmp, "bodymap", 200);
  const folders = centerFolders(pooled);

  it("writes each center's row from its own folder; plan takes the three files and writes plan --data's plan", async () => {
    const files: string[] = [];
    for (const center of CENTERS) {
      const file = join(tmp.dir, `${center}.cells.json`);
      // The first case as a real process: bin/fedseq's own exit and output.
      const run = await runFedseqAsync([
        "cells",
        "--data",
        folders[center],
        "--name",
        center,
        "--design",
        "~ tissue",
        "--out",
        file,
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe("");
      // The metadata's own tally of the center's samples per tissue.
      const tally: Record<string, number> = {};
      for (const [, tissue, c] of metadataRows(pooled))
        if (c === center) tally[`tissue=${tissue}`] = (tally[`tissue=${tissue}`] ?? 0) + 1;
      expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ [center]: tally });
      files.push(file);
    }
    const fromFiles = join(tmp.dir, "plan-files.json");
    const made = await hosted([
      "plan",
      "--design",
      "~ tissue",
      "--levels",
      "tissue=adipose,blood,heart,skeletal_muscle",
      "--centers",
      CENTERS.join(","),
      ...files.flatMap((f) => ["--cell-sizes", f]),
      "--min-cell",
      "2",
      "--out",
      fromFiles,
    ]);
    expect(made.code, made.stderr).toBe(0);
    const fromData = join(tmp.dir, "plan-data.json");
    const trial = await trialPlan(pooled, fromData);
    expect(trial.code, trial.stderr).toBe(0);
    expect(readFileSync(fromFiles, "utf8")).toBe(readFileSync(fromData, "utf8"));
  });

  it("prints the row on stdout, and reads one center of a pooled folder (--data with a center column)", async () => {
    const own = await hosted([
      "cells",
      "--data",
      folders.hospital_b,
      "--name",
      "hospital_b",
      "--design",
      "~ tissue",
    ]);
    expect(own.code, own.stderr).toBe(0);
    const fromPooled = await hosted([
      "cells",
      "--data",
      pooled,
      "--name",
      "hospital_b",
      "--design",
      "~ tissue",
    ]);
    expect(fromPooled.code, fromPooled.stderr).toBe(0);
    expect(fromPooled.stdout).toBe(own.stdout);
    const tally = metadataRows(pooled).filter((r) => r[2] === "hospital_b").length;
    const row = JSON.parse(own.stdout).hospital_b as Record<string, number>;
    expect(Object.values(row).reduce((a, b) => a + b, 0)).toBe(tally);
    // --counts/--metadata as `center` reads them.
    const files = await hosted([
      "cells",
      "--counts",
      join(folders.hospital_b, "counts.csv"),
      "--metadata",
      join(folders.hospital_b, "metadata.csv"),
      "--name",
      "hospital_b",
      "--design",
      "~ tissue",
    ]);
    expect(files.code, files.stderr).toBe(0);
    expect(files.stdout).toBe(own.stdout);
  });

  it("counts a numeric column as a factor with factor(), as a center reads the plan's design", async () => {
    // hospital_a's samples with a numeric batch column (1, 2, 1, …): a covariate (no cells) in
    // `~ batch + tissue`, a factor in `~ factor(batch) + tissue`.
    const rows = metadataRows(pooled).filter((r) => r[2] === "hospital_a");
    const batchOf = (i: number) => String((i % 2) + 1);
    tmp.write(
      "batched/metadata.csv",
      `sample,tissue,batch\n${rows.map((r, i) => `${r[0]},${r[1]},${batchOf(i)}`).join("\n")}\n`,
    );
    tmp.write("batched/counts.csv", readFileSync(join(folders.hospital_a, "counts.csv"), "utf8"));
    const folder = join(tmp.dir, "batched");
    const cells = (design: string) =>
      hosted(["cells", "--data", folder, "--name", "hospital_a", "--design", design]);
    const covariate = await cells("~ batch + tissue");
    expect(covariate.code, covariate.stderr).toBe(0);
    const byTissue: Record<string, number> = {};
    for (const r of rows) byTissue[`tissue=${r[1]}`] = (byTissue[`tissue=${r[1]}`] ?? 0) + 1;
    expect(JSON.parse(covariate.stdout)).toEqual({ hospital_a: byTissue });
    const factor = await cells("~ factor(batch) + tissue");
    expect(factor.code, factor.stderr).toBe(0);
    const byCell: Record<string, number> = {};
    rows.forEach((r, i) => {
      const key = `batch=${batchOf(i)},tissue=${r[1]}`;
      byCell[key] = (byCell[key] ?? 0) + 1;
    });
    expect(JSON.parse(factor.stdout)).toEqual({ hospital_a: byCell });
    // The plan of that design takes the factor row, and names the covariate row's cells as not
    // the design's.
    const plan = (row: string, name: string) =>
      planFromRows(
        "~ factor(batch) + tissue",
        ["batch=1,2", "tissue=adipose,blood,heart,skeletal_muscle"],
        ["hospital_a", "hospital_b"],
        [
          tmp.write(`batched-${name}.json`, row),
          tmp.write("batched-b.json", '{"hospital_b": {"batch=1,tissue=blood": 2}}'),
        ],
        join(tmp.dir, `batched-plan-${name}.json`),
      );
    const taken = await plan(factor.stdout, "factor");
    expect(taken.code, taken.stderr).toBe(0);
    const refused = await plan(covariate.stdout, "covariate");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/hospital_a: tissue=adipose: not a cell of the design/);
  });

  it("keeps cells apart whose levels hold commas and equals signs: the k-sample rule sees each", async () => {
    // With `~ a + b`, a=`x`, b=`y,b=z` and a=`x,b=y`, b=`z` were one key, `a=x,b=y,b=z`: their
    // 1 and 2 samples made a cell of 3 to the k-sample rule (a red team's finding).
    const samples = [
      ["s1", "x", '"y,b=z"', "c1"],
      ["s2", '"x,b=y"', "z", "c1"],
      ["s3", '"x,b=y"', "z", "c1"],
      ...["c1", "c2", "c3"].flatMap((c) => [1, 2, 3].map((k) => [`${c}_${k}`, "q", "w", c])),
    ];
    const dir = join(tmp.dir, "colliding");
    tmp.write(
      "colliding/metadata.csv",
      `sample,a,b,center\n${samples.map((r) => r.join(",")).join("\n")}\n`,
    );
    tmp.write(
      "colliding/counts.csv",
      `gene,${samples.map((r) => r[0]).join(",")}\n${[1, 2, 3]
        .map((g) => `g${g},${samples.map((_, i) => 5 + ((g * 7 + i * 3) % 11)).join(",")}`)
        .join("\n")}\n`,
    );
    const row = await hosted(["cells", "--data", dir, "--name", "c1", "--design", "~ a + b"]);
    expect(row.code, row.stderr).toBe(0);
    expect(JSON.parse(row.stdout)).toEqual({
      c1: { "a=q,b=w": 3, "a=x,b=y%2Cb%3Dz": 1, "a=x%2Cb%3Dy,b=z": 2 },
    });
    const plan = await hosted([
      "plan",
      "--data",
      dir,
      "--design",
      "~ a + b",
      "--out",
      join(tmp.dir, "colliding-plan.json"),
    ]);
    expect(plan.code).toBe(2);
    // The cells in key order: the one of 2 samples is the first the rule meets.
    expect(plan.stderr).toContain(
      "center c1: cell a=x%2Cb%3Dy,b=z holds 2 samples over the federation (2 here), fewer than the plan's min_cell 3",
    );
  });

  it.each([
    [
      "a design variable the metadata lacks",
      () => ["cells", "--data", folders.hospital_a, "--name", "hospital_a", "--design", "~ age"],
      /^fedseq: .*age/,
    ],
    [
      "a design that does not parse",
      () => ["cells", "--data", folders.hospital_a, "--name", "hospital_a", "--design", "tissue"],
      /^fedseq: --design: /,
    ],
    [
      "a name no plan can list (a comma in it)",
      () => ["cells", "--data", pooled, "--name", "hospital_a,hospital_b", "--design", "~ tissue"],
      /^fedseq: --name: a center's name holds no comma and no spaces around it \(plan --centers lists the names separated by commas\), got "hospital_a,hospital_b"$/,
    ],
    [
      "neither --data nor --counts",
      () => ["cells", "--name", "hospital_a", "--design", "~ tissue"],
      /^fedseq: cells: give either --data DIR, or both --counts FILE and --metadata FILE$/,
    ],
    [
      "a center the pooled folder does not hold",
      () => ["cells", "--data", pooled, "--name", "hospital_z", "--design", "~ tissue"],
      /^fedseq: .*hospital_z/,
    ],
  ])("refuses %s in one line (exit 2)", async (_, args, message) => {
    const run = await hosted(args());
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(run.stderr.trimEnd()).toMatch(message);
  });

  it("its --help example writes the row it says (with the data folder put for /data/rnaseq)", async () => {
    const help = await hosted(["cells", "--help"]);
    expect(help.code).toBe(0);
    const example = /Example[^\n]*\n\s+fedseq (cells [^\n]*)\n/.exec(help.stdout)?.[1];
    expect(example).toBeDefined();
    const args = (example ?? "")
      .split(/\s+/)
      .map((w) => (w === "/data/rnaseq" ? folders.hospital_a : w.replace(/^"|"$/g, "")));
    // The formula is the one quoted word with a space: "~ tissue".
    const design = args.indexOf("--design");
    args.splice(design + 1, 2, "~ tissue");
    const folder = join(tmp.dir, "help-example");
    tmp.write("help-example/.keep", "");
    const made = await runFedseqAsync(args, { cwd: folder });
    expect(made.code, made.stderr).toBe(0);
    const written = JSON.parse(readFileSync(join(folder, "hospital_a.cells.json"), "utf8"));
    expect(Object.keys(written)).toEqual(["hospital_a"]);
  });

  it("never writes over a file, and says in one line when --out cannot be written", async () => {
    const metadata = join(folders.hospital_a, "metadata.csv");
    const before = readFileSync(metadata, "utf8");
    const args = [
      "cells",
      "--data",
      folders.hospital_a,
      "--name",
      "hospital_a",
      "--design",
      "~ tissue",
    ];
    const over = await hosted([...args, "--out", metadata]);
    expect(over.code).toBe(2);
    expect(over.stderr.trimEnd()).toBe(
      `fedseq: --out ${metadata}: already exists (remove it first, or name another)`,
    );
    expect(readFileSync(metadata, "utf8")).toBe(before);
    // /proc takes no new file: Node's error, as one line.
    for (const run of [
      await hosted([...args, "--out", "/proc/cells.json"]),
      await trialPlan(pooled, "/proc/plan.json"),
    ]) {
      expect(run.code).toBe(2);
      expect(run.stderr.trimEnd()).toMatch(
        /^fedseq: --out \/proc\/(cells|plan)\.json: cannot write: [^\n]+$/,
      );
    }
  });

  it("plan reads a row file with a byte-order mark, and refuses a row named __proto__", async () => {
    const plan = (...files: string[]) =>
      planFromRows(
        "~ tissue",
        ["tissue=adipose,blood"],
        ["hospital_a", "hospital_b"],
        files,
        join(tmp.dir, `bom-plan-${files.length}-${files[0].length}.json`),
      );
    const a = tmp.write("row-a.json", '{"hospital_a": {"tissue=adipose": 2}}\n');
    const bom = tmp.write("row-b-bom.json", '\uFEFF{"hospital_b": {"tissue=blood": 2}}\n');
    const read = await plan(a, bom);
    expect(read.code, read.stderr).toBe(0);
    const proto = tmp.write(
      "row-proto.json",
      '{"__proto__": {"tissue=adipose": 1}, "hospital_a": {"tissue=adipose": 2}}\n',
    );
    const refused = await plan(proto, bom);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trimEnd()).toBe(
      `fedseq: --cell-sizes ${proto}: __proto__: not one of the plan's centers (hospital_a, hospital_b)`,
    );
  });

  it("plan refuses a center in two --cell-sizes files, and a center in none, naming the files", async () => {
    const rows = {
      a: tmp.write("rows-a.json", '{"hospital_a": {"tissue=adipose": 2}}\n'),
      again: tmp.write("rows-again.json", '{"hospital_a": {"tissue=adipose": 2}}\n'),
      bc: tmp.write(
        "rows-bc.json",
        '{"hospital_b": {"tissue=adipose": 1}, "hospital_c": {"tissue=adipose": 1}}\n',
      ),
      b: tmp.write("rows-b.json", '{"hospital_b": {"tissue=adipose": 1}}\n'),
      list: tmp.write("rows-list.json", "[1, 2]\n"),
    };
    const plan = (...files: string[]) =>
      planFromRows(
        "~ tissue",
        ["tissue=adipose,blood"],
        CENTERS,
        files,
        join(tmp.dir, "refused.json"),
      );
    const twice = await plan(rows.a, rows.bc, rows.again);
    expect(twice.code).toBe(2);
    expect(twice.stderr.trimEnd()).toBe(
      `fedseq: --cell-sizes ${rows.again}: hospital_a: also in --cell-sizes ${rows.a} (one row a center)`,
    );
    const missing = await plan(rows.a, rows.b);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trimEnd()).toBe(
      `fedseq: --cell-sizes ${rows.a}, ${rows.b}: hospital_c: missing (every center has its cell sizes)`,
    );
    const wrongCell = await plan(
      rows.a,
      rows.bc,
      tmp.write("rows-cell.json", '{"hospital_d": {"tissue=heart": 1}}\n'),
    );
    expect(wrongCell.code).toBe(2);
    expect(wrongCell.stderr.trimEnd()).toMatch(
      /^fedseq: --cell-sizes \S*rows-cell\.json: hospital_d: not one of the plan's centers/,
    );
    const list = await plan(rows.list);
    expect(list.code).toBe(2);
    expect(list.stderr.trimEnd()).toMatch(
      /^fedseq: --cell-sizes \S*rows-list\.json: expected an object of center/,
    );
    // Each refusal before the plan is written.
    expect(() => readFileSync(join(tmp.dir, "refused.json"))).toThrow();
  });
});
