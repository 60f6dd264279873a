/**
 * `fedseq plan` writes the analysis plan the centers approve: levels and centers from a dataset
 * folder (`--data`) or from `--levels`/`--centers`, the analysis from `run`'s flags; `run --plan`
 * then runs exactly that analysis (the same files as `run` with the same flags).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { useCliHost } from "../helpers/cliHost.js";
import { runFedseqAsync } from "../helpers/processes.js";
import { sharedSubset } from "../helpers/subsets.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-plan-");
/** bin/fedseq's entry point in one host process (cliHost.ts): the same exit code, output and files. */
const hosted = useCliHost();
const pipelineFixtures = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "pipeline",
  "fixtures",
);

describe("fedseq plan", () => {
  it("takes the levels and centers from a dataset folder, and run --plan gives run's files", async () => {
    // outliers_sim's first 400 genes: the same samples, levels and centers; the two runs compared
    // with each other are cheaper.
    const data = sharedSubset(tmp, "outliers_sim", 400);
    const file = join(tmp.dir, "outliers.json");
    const made = await runFedseqAsync([
      "plan",
      "--data",
      data,
      "--design",
      "~ condition",
      "--alpha",
      "0.05",
      "--out",
      file,
    ]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toMatch(
      /wrote .*outliers\.json: ~ condition, 3 centers, k = 3, secure aggregation on, requests verified by every center; sha256 [0-9a-f]{64}/,
    );
    // Cells of 9 pooled samples: most of their counts fall to the equations attack, given the
    // size factors (docs/privacy.md, "Known leaks"; test/privacy/pooledIrlsAttack.test.ts).
    expect(made.stderr).toContain(
      "fedseq: warning: condition=A (9 pooled samples), condition=B (9 pooled samples): under 25 samples over the federation, whatever k",
    );
    const plan = JSON.parse(readFileSync(file, "utf8"));
    // outliers_sim/metadata.csv: conditions A and B at lab_1, lab_2, lab_3.
    expect(plan.centers).toEqual(["lab_1", "lab_2", "lab_3"]);
    expect(plan.levels).toEqual({ condition: ["A", "B"] });
    expect(plan.alpha).toBe(0.05);
    expect(plan.min_cell).toBe(3);
    expect(plan.secure_aggregation).toBe(true);
    // Verified requests: the default under secure aggregation with cell sizes.
    expect(plan.verify_requests).toBe(true);
    // outliers_sim/metadata.csv: 3 samples of each condition at each lab.
    const three = { "condition=A": 3, "condition=B": 3 };
    expect(plan.cell_sizes).toEqual({ lab_1: three, lab_2: three, lab_3: three });

    const withPlan = join(tmp.dir, "with-plan");
    const withFlags = join(tmp.dir, "with-flags");
    const [a, b] = await Promise.all([
      hosted(["run", "--data", data, "--plan", file, "--out", withPlan]),
      hosted([
        "run",
        "--data",
        data,
        "--design",
        "~ condition",
        "--alpha",
        "0.05",
        "--out",
        withFlags,
      ]),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    for (const name of ["results.csv", "dispersions.csv", "size_factors.csv", "lfc.csv"]) {
      expect(readFileSync(join(withPlan, name), "utf8"), name).toBe(
        readFileSync(join(withFlags, name), "utf8"),
      );
    }
  });

  it("warns of pooled cells under 25 samples, whose counts a run's pooled sums give away, and so does a center under that plan (bodymap: 4 per tissue)", async () => {
    const file = join(tmp.dir, "bodymap.json");
    const data = sharedSubset(tmp, "bodymap", 50);
    const made = await hosted([
      "plan",
      "--data",
      data,
      "--design",
      "~ tissue",
      "--min-cell",
      "2",
      "--out",
      file,
    ]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toContain(
      "fedseq: warning: tissue=adipose (4 pooled samples), tissue=blood (4 pooled samples), tissue=heart (4 pooled samples), tissue=skeletal_muscle (4 pooled samples): under 25 samples over the federation, whatever k: solved as equations, a run's pooled sums (the aggregator's, and every center's) give away most counts of such cells given their size factors, which the same sums give for cells of 3–5 (docs/privacy.md, \"Known leaks\")",
    );
    const plan = JSON.parse(readFileSync(file, "utf8"));
    expect(plan.min_cell).toBe(2);
    // A center started with the plan says it too, before it dials (here an aggregator that
    // never answers: it gives up after a second, exit 3).
    const certs = join(tmp.dir, "certs");
    const made2 = await hosted(["certs", "--out", certs, "--centers", "hospital_a"]);
    expect(made2.code, made2.stderr).toBe(0);
    const center = await runFedseqAsync([
      "center",
      "--name",
      "hospital_a",
      "--data",
      data,
      "--plan",
      file,
      "--aggregator",
      "127.0.0.1:9",
      "--ca",
      join(certs, "ca.pem"),
      "--cert",
      join(certs, "hospital_a.pem"),
      "--key",
      join(certs, "hospital_a.key"),
      "--give-up-after",
      "1",
    ]);
    expect(center.code, center.stderr).toBe(3);
    expect(center.stderr).toContain(
      "fedseq center: hospital_a: warning: tissue=adipose (4 pooled samples), tissue=blood (4 pooled samples), tissue=heart (4 pooled samples), tissue=skeletal_muscle (4 pooled samples): under 25 samples over the federation, whatever k",
    );
  });

  it("with --data, warns where DESeq2's Cook's cells would not be the run's (ages in whole years that samples share)", async () => {
    const file = join(tmp.dir, "ages.json");
    const made = await hosted([
      "plan",
      ...["--data", join(pipelineFixtures, "covariate_cells"), "--design", "~ age + condition"],
      ...["--out", file],
    ]);
    expect(made.code, made.stderr).toBe(0);
    // 60 of its 150 samples share (age, condition) with 2 or more others, in 18 such groups
    // (test/pipeline/run.covariate.test.ts counts them from the metadata).
    expect(made.stderr).toContain(
      "fedseq: warning: 60 of 150 samples share their design row with 2 or more others (18 such rows, e.g. age = 72, condition = A: 5 samples): DESeq2 takes each such group as a Cook's cell",
    );
  });

  it("refuses a k above 1 without verified requests (no cell sizes, or --no-verify-requests): exit 2, one line, nothing written", async () => {
    const base = ["plan", "--design", "~ condition", "--levels", "condition=A,B"];
    const centers = ["--centers", "lab_1,lab_2,lab_3"];
    const refused = join(tmp.dir, "unverified.json");
    const made = await hosted([...base, ...centers, "--out", refused]);
    expect(made.code).toBe(2);
    expect(made.stderr).toMatch(
      /^fedseq: the plan: min_cell: a k above 1 holds only under verified requests .*one Cook's sums request gave back 74% of outliers_sim's non-zero counts.*k = 1 \(the centers' consent to disclose\)\n$/,
    );
    expect(existsSync(refused)).toBe(false);
    const data = sharedSubset(tmp, "outliers_sim", 20);
    const trusting = await hosted([
      ...["plan", "--data", data, "--design", "~ condition", "--no-verify-requests"],
      ...["--out", refused],
    ]);
    expect(trusting.code).toBe(2);
    expect(trusting.stderr).toContain("min_cell: a k above 1 holds only under verified requests");
    // A simulation (one user holding every center's data) runs such a plan and says a real
    // federation would refuse it.
    const simulated = await hosted([
      ...["run", "--data", data, "--design", "~ condition", "--no-verify-requests"],
      ...["--out", join(tmp.dir, "unverified-run")],
    ]);
    expect(simulated.code, simulated.stderr).toBe(0);
    expect(simulated.stderr).toContain(
      "fedseq: warning: a real federation would refuse this run: min_cell 3: a k above 1 holds only under verified requests",
    );
    // k = 1, the centers' consent, is a plan without them.
    const consent = join(tmp.dir, "consent.json");
    const k1 = await hosted([...base, ...centers, "--min-cell", "1", "--json", "--out", consent]);
    expect(k1.code, k1.stderr).toBe(0);
    // --json prints the plan written.
    expect(k1.stdout).toBe(readFileSync(consent, "utf8"));
    expect(JSON.parse(readFileSync(consent, "utf8"))).toMatchObject({
      min_cell: 1,
      verify_requests: false,
    });
    // The weakest plan says what it gives away, as a verified plan's warnings do theirs; and so
    // does a center started with it, before it dials (an aggregator that never answers here).
    const unverified =
      "warning: requests not verified: the aggregator chooses the points where the centers' sums are evaluated, and a red team's requests read single samples' counts";
    expect(k1.stderr).toContain(`fedseq: ${unverified}`);
    const certs = join(tmp.dir, "k1-certs");
    const made2 = await hosted(["certs", "--out", certs, "--centers", "lab_1"]);
    expect(made2.code, made2.stderr).toBe(0);
    // Its data with an HTSeq summary row: the reader's warning is the center's, named.
    const htseq = join(tmp.dir, "k1-htseq");
    for (const file of ["counts.csv", "metadata.csv"])
      tmp.write(`k1-htseq/${file}`, readFileSync(join(data, file), "utf8"));
    const counts = readFileSync(join(htseq, "counts.csv"), "utf8");
    const width = counts.split("\n")[0].split(",").length - 1;
    tmp.write("k1-htseq/counts.csv", `${counts.trimEnd()}\n__no_feature${",7".repeat(width)}\n`);
    const center = await runFedseqAsync([
      ...["center", "--name", "lab_1", "--data", htseq, "--plan", consent],
      ...["--aggregator", "127.0.0.1:9", "--ca", join(certs, "ca.pem")],
      ...["--cert", join(certs, "lab_1.pem"), "--key", join(certs, "lab_1.key")],
      ...["--give-up-after", "1"],
    ]);
    expect(center.code, center.stderr).toBe(3);
    expect(center.stderr).toContain(`fedseq center: lab_1: ${unverified}`);
    expect(center.stderr).toMatch(
      /fedseq center: lab_1: warning: \S+counts\.csv: "__no_feature" is an HTSeq summary row/,
    );
  });

  it("takes levels from --levels (sorted) and centers from --centers, and the test from --test", async () => {
    const file = join(tmp.dir, "manual.json");
    // Cell sizes (each center's samples per cell): with them the centers verify requests,
    // under which a k above 1 holds.
    const cells = (n: number) =>
      Object.fromEntries(
        ["b1", "b2"].flatMap((b) =>
          ["control", "treated"].map((c) => [`batch=${b},condition=${c}`, n]),
        ),
      );
    const sizes = tmp.write(
      "manual-cells.json",
      JSON.stringify({ hospital_a: cells(6), hospital_b: cells(5), hospital_c: cells(5) }),
    );
    const made = await hosted([
      "plan",
      "--cell-sizes",
      sizes,
      "--design",
      "~ batch + condition",
      "--levels",
      "condition=treated,control",
      "--levels",
      "batch=b2,b1",
      "--reference",
      "condition=control",
      "--contrast",
      "condition,treated,control",
      "--centers",
      "hospital_b,hospital_c,hospital_a",
      "--min-cell",
      "5",
      "--test",
      "LRT",
      "--reduced",
      "~ batch",
      "--out",
      file,
    ]);
    expect(made.code, made.stderr).toBe(0);
    const plan = JSON.parse(readFileSync(file, "utf8"));
    expect(plan.centers).toEqual(["hospital_a", "hospital_b", "hospital_c"]);
    expect(plan.levels).toEqual({ condition: ["control", "treated"], batch: ["b1", "b2"] });
    expect(plan.references).toEqual({ condition: "control" });
    expect(plan.contrast).toBe("condition,treated,control");
    expect(plan.min_cell).toBe(5);
    expect(plan.verify_requests).toBe(true);
    expect(plan.test).toBe("LRT");
    expect(plan.reduced).toBe("~ batch");
  });

  it.each([
    [
      "a k above 1 over two centers (each center's own cells count)",
      { a: { "condition=A": 3, "condition=B": 3 }, b: { "condition=A": 3, "condition=B": 3 } },
      "--min-cell 3",
    ],
    [
      "a pooled cell under k at some center",
      {
        a: { "condition=A": 3, "condition=B": 1 },
        b: { "condition=A": 3 },
        c: { "condition=A": 3, "condition=B": 1 },
      },
      "center a: cell condition=B holds 2 samples over the federation",
    ],
    [
      "cells that meet a smaller k (the message names it)",
      {
        a: { "condition=A": 2, "condition=B": 1 },
        b: { "condition=A": 1, "condition=B": 2 },
        c: { "condition=A": 1, "condition=B": 1 },
      },
      "fewer than the plan's min_cell 3: with verified requests each center learns the pooled sums, and the pooled sums minus this center's own are those samples' (a plan with \"verify_requests\": false trusts the aggregator to choose the iterative steps' points instead); these cell sizes meet --min-cell 2 (the k-sample rule: README)",
    ],
  ])(
    "refuses a plan every center would refuse before round 1: %s",
    async (name, cells, message) => {
      const slug = name.replace(/\W+/g, "-");
      const file = join(tmp.dir, `${slug}.json`);
      const sizes = tmp.write(`${slug}-cells.json`, JSON.stringify(cells));
      const made = await hosted([
        "plan",
        "--cell-sizes",
        sizes,
        "--design",
        "~ condition",
        "--levels",
        "condition=A,B",
        "--centers",
        Object.keys(cells).join(","),
        "--out",
        file,
      ]);
      expect(made.code).toBe(2);
      expect(made.stderr.trim().split("\n")).toHaveLength(1);
      expect(made.stderr).toContain(message);
      expect(existsSync(file)).toBe(false);
    },
  );

  it("names --cell-sizes, the file and what is wrong in one line (exit 2, nothing written): missing, not JSON, not center → {cell: samples}", async () => {
    const good = { "condition=A": 3, "condition=B": 3 };
    const cases: [string, string | null, string][] = [
      ["missing", null, "fedseq: --cell-sizes: cannot read MISSING: no such file\n"],
      ["truncated", '{"a": {"condition=A": 3', "fedseq: --cell-sizes FILE: not JSON ("],
      [
        "list",
        "[1, 2]",
        'fedseq: --cell-sizes FILE: expected an object of center → {cell: samples}, e.g. {"hospital_a": {"tissue=heart": 4}}, found a list\n',
      ],
      [
        "center-number",
        JSON.stringify({ a: good, b: good, c: 5 }),
        'fedseq: --cell-sizes FILE: c: expected an object of cell → samples, e.g. {"tissue=heart": 4}, found 5\n',
      ],
      [
        "count-text",
        JSON.stringify({ a: good, b: { ...good, "condition=B": "3" }, c: good }),
        'fedseq: --cell-sizes FILE: b: condition=B: expected a whole number of samples ≥ 1, found "3"\n',
      ],
      [
        "unknown-cell",
        JSON.stringify({ a: good, b: good, c: { "condition=a": 3, "condition=B": 3 } }),
        "fedseq: --cell-sizes FILE: c: condition=a: not a cell of the design ~ condition (its cells: condition=A and condition=B)\n",
      ],
      [
        "unknown-center",
        JSON.stringify({ a: good, b: good, c: good, d: good }),
        "fedseq: --cell-sizes FILE: d: not one of the plan's centers (a, b, c)\n",
      ],
      [
        "missing-center",
        JSON.stringify({ a: good, b: good }),
        "fedseq: --cell-sizes FILE: c: missing (every center has its cell sizes)\n",
      ],
    ];
    for (const [name, text, message] of cases) {
      const sizes =
        text === null ? join(tmp.dir, "no-such-cells.json") : tmp.write(`${name}-cells.json`, text);
      const out = join(tmp.dir, `cell-sizes-${name}.json`);
      const args = ["plan", "--design", "~ condition", "--levels", "condition=A,B"];
      // The first case in a process of its own: how bin/fedseq itself ends (no stack trace).
      const made = await (name === "missing" ? runFedseqAsync : hosted)([
        ...args,
        ...["--centers", "a,b,c", "--cell-sizes", sizes, "--out", out],
      ]);
      expect(made.code, `${name}: ${made.stderr}`).toBe(2);
      const expected = message.replace("MISSING", sizes).replace("FILE", sizes);
      expect(made.stderr.startsWith(expected), `${name}: ${made.stderr}`).toBe(true);
      expect(made.stderr.trim().split("\n"), name).toHaveLength(1);
      expect(existsSync(out), name).toBe(false);
    }
  });

  it("refuses a k far above the federation's samples at once, naming the k its cells meet", async () => {
    // Each k from --min-cell down was tried in turn: 2,000,000,000 of them took hours.
    const cells = { a: { "condition=A": 3, "condition=B": 3 }, b: { "condition=A": 3 } };
    const sizes = tmp.write("huge-k-cells.json", JSON.stringify({ ...cells, c: cells.a }));
    const made = await hosted([
      ...["plan", "--design", "~ condition", "--levels", "condition=A,B"],
      ...["--centers", "a,b,c", "--cell-sizes", sizes, "--min-cell", "2000000000"],
      ...["--out", join(tmp.dir, "huge-k.json")],
    ]);
    expect(made.code).toBe(2);
    expect(made.stderr).toContain("these cell sizes meet --min-cell 3 (the k-sample rule: README)");
  });

  it("its --help example writes the plan it shows (given the cells.json it names)", async () => {
    const help = await runFedseqAsync(["plan", "--help"]);
    expect(help.code).toBe(0);
    const example = /Example:\n\s+fedseq ([\s\S]*?)\n*$/.exec(help.stdout)?.[1];
    expect(example).toBeDefined();
    // The shell's reading of it: lines joined at the backslashes, words split on spaces outside
    // double quotes (the example quotes only its formula).
    const line = (example ?? "").replace(/\\\n\s*/g, "");
    const args = Array.from(line.matchAll(/"([^"]*)"|(\S+)/g), (m) => m[1] ?? m[2]);
    expect(args.slice(0, 3)).toEqual(["plan", "--design", "~ tissue"]);
    const folder = join(tmp.dir, "help-example");
    const cells = { "tissue=adipose": 2, "tissue=heart": 2, "tissue=kidney": 2 };
    tmp.write(
      "help-example/cells.json",
      JSON.stringify({ hospital_a: cells, hospital_b: cells, hospital_c: cells }),
    );
    const made = await runFedseqAsync(args, { cwd: folder });
    expect(made.code, made.stderr).toBe(0);
    const plan = JSON.parse(readFileSync(join(folder, "plan.json"), "utf8"));
    expect(plan.centers).toEqual(["hospital_a", "hospital_b", "hospital_c"]);
    expect(plan.min_cell).toBe(3);
    expect(plan.verify_requests).toBe(true);
  });
});
