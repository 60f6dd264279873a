/**
 * Local set-up steps: run by a center on its own data.
 */
import { InputError, listForMessage } from "../../core/errors.js";
import { designMatrix, localGram, localLevels } from "../../design/designMatrix.js";
import { parseFormula } from "../../design/formula.js";
import { type FitCenter, prepareCenterData } from "../center.js";
import type { CenterData } from "../centerData.js";
import type { GeneMask } from "../masks.js";
import { localPresence } from "./presence.js";
import {
  type LevelsRequest,
  type LevelsShare,
  type PrepareRequest,
  type PrepareShare,
  type PresenceRequest,
  type PresenceShare,
  parseLevels,
  parseReferences,
} from "./state.js";

/** Each center's gene → row map, made once per gene list (several set-up steps ask for rows). */
const geneIndices = new WeakMap<readonly string[], ReadonlyMap<string, number>>();

function geneIndex(genes: readonly string[]): ReadonlyMap<string, number> {
  let index = geneIndices.get(genes);
  if (index === undefined) {
    index = new Map(genes.map((g, i) => [g, i]));
    geneIndices.set(genes, index);
  }
  return index;
}

/**
 * Row of each requested gene in the center's data.
 * @throws InputError naming the genes the center lacks
 */
export function geneRows(data: CenterData, genes: readonly string[]): Int32Array {
  const index = geneIndex(data.genes);
  const rows = new Int32Array(genes.length);
  const missing: string[] = [];
  genes.forEach((g, j) => {
    const row = index.get(g);
    if (row === undefined) missing.push(g);
    else rows[j] = row;
  });
  if (missing.length > 0) {
    throw new InputError(
      `center ${data.name} lacks ${missing.length} gene(s): ${listForMessage(missing)}`,
    );
  }
  return rows;
}

/**
 * Gene-major counts of the requested rows: the center's own array itself when the rows are all
 * its genes in its order (the usual run: no second copy of the counts), else a copy. Read-only
 * either way (a step that changes counts, Cook's replacement, copies them first).
 */
export function countsOfRows(data: CenterData, rows: Int32Array): Float64Array {
  const n = data.samples.length;
  if (rows.length === data.genes.length && rows.every((row, j) => row === j)) return data.counts;
  // In shared memory, as the counts read (io/dataset.ts): a worker pool then reads the copy in
  // place instead of holding one more (SharedArrayBuffer is a JavaScript global, no runtime).
  const out = new Float64Array(new SharedArrayBuffer(rows.length * n * 8));
  rows.forEach((row, j) => {
    out.set(data.counts.subarray(row * n, (row + 1) * n), j * n);
  });
  return out;
}

/** Presence bits of the requested genes. */
export function presenceLocalStep(data: CenterData, request: PresenceRequest): PresenceShare {
  const rows = geneRows(data, request.genes);
  const present: GeneMask = localPresence(
    countsOfRows(data, rows),
    data.samples.length,
    rows.length,
  );
  return { kind: "presence-share", present };
}

/** The center's level sets for the design. */
export function levelsLocalStep(data: CenterData, request: LevelsRequest): LevelsShare {
  return {
    kind: "levels-share",
    levels: JSON.stringify(localLevels(data.metadata, parseFormula(request.formula))),
  };
}

/** Build the center's design matrix and kernel data; share XᵀX. */
export function prepareLocalStep(
  data: CenterData,
  request: PrepareRequest,
): { center: FitCenter; share: PrepareShare } {
  const n = data.samples.length;
  if (request.sizeFactors.length !== n) {
    throw new Error(
      `center ${data.name}: ${request.sizeFactors.length} size factors for ${n} samples`,
    );
  }
  if (request.dispersions.length !== request.genes.length) {
    throw new Error(
      `center ${data.name}: ${request.dispersions.length} dispersions for ${request.genes.length} genes`,
    );
  }
  const design = designMatrix(
    data.metadata,
    parseFormula(request.formula),
    parseLevels(request.levels, "prepare.levels"),
    parseReferences(request.references, "prepare.references"),
  );
  const rows = geneRows(data, request.genes);
  const center: FitCenter = {
    main: prepareCenterData({
      n,
      p: design.columns.length,
      genes: rows.length,
      design: design.matrix,
      sizeFactors: request.sizeFactors,
      counts: countsOfRows(data, rows),
      dispersions: request.dispersions,
    }),
  };
  const { counts } = center.main.data;
  const normalizedSums = new Float64Array(rows.length);
  for (let g = 0; g < rows.length; g++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += counts[g * n + i] / request.sizeFactors[i];
    normalizedSums[g] = sum;
  }
  return {
    center,
    share: { kind: "prepare-share", gram: localGram(design), samples: n, normalizedSums },
  };
}
