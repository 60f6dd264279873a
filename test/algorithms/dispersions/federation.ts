/**
 * The shared datasets split into dispersion centers (by their `center` column), with DESeq2's
 * size factors and design matrix, and DESeq2's pooled dispersion outputs aligned to the genes.
 */
import type { DispersionCenter } from "../../../src/algorithms/dispersions/center.js";
import { centerDataFromDataset } from "../../../src/federation/centerData.js";
import { readCsv } from "../../../src/io/csv.js";
import { readDataset } from "../../../src/io/dataset.js";
import { sharedPath } from "../../helpers/shared.js";

/** A dataset as federated centers, its pooled single center, and DESeq2's fit. */
export interface DispersionFixture {
  readonly name: string;
  readonly genes: string[];
  /** Centers in federation (sorted name) order. */
  readonly centers: DispersionCenter[];
  /** All samples as one center. */
  readonly pooled: DispersionCenter;
  /** fit.csv columns aligned to `genes` (all_zero as 1/0). */
  readonly deseq2: Record<"allZero" | "dispersion" | "dispGeneEst" | "dispFit", Float64Array>;
  /** outliers_sim: genes DESeq2 refitted after replacing Cook's outliers (cooks.csv), else none. */
  readonly replaced: Uint8Array;
}

/** Column `name` of a CSV as numbers by row id (first column). */
function columnById(file: string, name: string): Map<string, number> {
  const table = readCsv(file);
  const k = table.header.indexOf(name);
  if (k < 0) throw new Error(`${file}: no column ${name}`);
  const out = new Map<string, number>();
  for (const row of table.rows) {
    const v = row.fields[k];
    out.set(
      row.fields[0],
      v === "TRUE" ? 1 : v === "FALSE" ? 0 : v === "NA" ? Number.NaN : Number(v),
    );
  }
  return out;
}

function aligned(map: Map<string, number>, ids: readonly string[], file: string): Float64Array {
  return Float64Array.from(ids, (id) => {
    const v = map.get(id);
    if (v === undefined) throw new Error(`${file}: no row ${id}`);
    return v;
  });
}

function center(
  samples: readonly string[],
  counts: Float64Array,
  genes: number,
  designRows: Map<string, number[]>,
  sizeFactors: Map<string, number>,
): DispersionCenter {
  const n = samples.length;
  const p = designRows.values().next().value?.length ?? 0;
  const design = new Float64Array(n * p);
  const s = new Float64Array(n);
  samples.forEach((id, i) => {
    const row = designRows.get(id);
    const f = sizeFactors.get(id);
    if (row === undefined || f === undefined)
      throw new Error(`no design row or size factor for ${id}`);
    design.set(row, i * p);
    s[i] = f;
  });
  return { n, p, genes, design, sizeFactors: s, counts };
}

const cache = new Map<string, Promise<DispersionFixture>>();

/** Load (once per test file) a shared dataset as a federation. */
export function loadFixture(name: string): Promise<DispersionFixture> {
  let fixture = cache.get(name);
  if (fixture === undefined) {
    fixture = load(name);
    cache.set(name, fixture);
  }
  return fixture;
}

async function load(name: string): Promise<DispersionFixture> {
  const dataset = await readDataset(sharedPath("data", name));
  const designFile = sharedPath("data", name, "deseq2", "design_matrix.csv");
  const designTable = readCsv(designFile);
  const designRows = new Map(
    designTable.rows.map((r) => [r.fields[0], r.fields.slice(1).map(Number)]),
  );
  const sizeFactors = columnById(
    sharedPath("data", name, "deseq2", "size_factors.csv"),
    "size_factor",
  );
  const nGenes = dataset.genes.length;
  const centers = dataset.centers.map((c) => {
    const data = centerDataFromDataset(dataset, c);
    return center(data.samples, data.counts, nGenes, designRows, sizeFactors);
  });
  const pooled = center(dataset.samples, dataset.counts, nGenes, designRows, sizeFactors);
  const fitFile = sharedPath("data", name, "deseq2", "fit.csv");
  const column = (c: string) => aligned(columnById(fitFile, c), dataset.genes, fitFile);
  const replaced = new Uint8Array(nGenes);
  if (name === "outliers_sim") {
    const cooks = sharedPath("data", name, "deseq2", "cooks.csv");
    aligned(columnById(cooks, "replace"), dataset.genes, cooks).forEach((v, g) => {
      replaced[g] = v === 1 ? 1 : 0;
    });
  }
  return {
    name,
    genes: dataset.genes,
    centers,
    pooled,
    deseq2: {
      allZero: column("all_zero"),
      dispersion: column("dispersion"),
      dispGeneEst: column("disp_gene_est"),
      dispFit: column("disp_fit"),
    },
    replaced,
  };
}
