/**
 * An attacker's scan of a transcript (issue [11], "the centers' counts stay at the centers"):
 * given the centers' private data, does any number a center sent equal a function of one or two
 * of its samples?
 *
 * Two attacks:
 *
 * - **By value** ({@link scanTranscript}): per center, every candidate "function of one or two
 *   samples" is enumerated (per gene and sample: y, y/s, (y/s)², ln(y/s + 0.1), ln y, ln(y/s);
 *   the same kinds summed over two samples of the center; per sample: s, 1/s, ln s and the sums
 *   of two samples' s and 1/s; design values x, x² of continuous covariates and their pair
 *   sums), sorted once, and every transmitted number of that center is looked up by binary
 *   search, equal to within a relative 1e-12 (the sender may sum in another order). Count
 *   kinds skip y = 0 (their values are 0 or undefined, and a sum with a zero is the other
 *   sample's value), except ln(y/s + 0.1) = ln 0.1. Data-dependent centrings (y/s − c for a
 *   mean c the aggregator sends) are not enumerated.
 * - **By structure** ({@link structureRules}): for fields known to be sums over a center's
 *   samples selected by the design (Xᵀv per column, XᵀWX per pair of columns, per design-row
 *   sums) and per-sample fields, the number of samples each value is computed from.
 *   A value from 1 or 2 samples is a function of one or two samples whatever its value.
 *
 * Transmitted numbers that are trivially functions of any samples (0, ±1, whole numbers up to
 * the federation's sample count) are counted but not looked up.
 */
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import {
  designMatrix,
  localLevels,
  mergeLevels,
  type References,
} from "../../src/design/designMatrix.js";
import { parseFormula } from "../../src/design/formula.js";
import { type CenterData, centerDataFromDataset } from "../../src/federation/centerData.js";
import { summedFields } from "../../src/federation/pooledSums.js";
import type { StepName } from "../../src/federation/registry.js";
import { readDataset } from "../../src/io/dataset.js";

/** One message of a transcript (`{center, step, round, fields}`, as `fedseq run --transcript` writes). */
export interface TranscriptRecord {
  readonly center: string;
  readonly step: string;
  readonly round: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** What the attacker is given about one center: everything it holds, and its size factors. */
export interface PrivateCenter {
  readonly name: string;
  readonly samples: readonly string[];
  /** Genes in the run's (federation) order; `counts` rows follow it. */
  readonly genes: readonly string[];
  /** Counts, gene-major (gene g's n counts at g·n). */
  readonly counts: Float64Array;
  /** The size factors the center computed (median of ratios over the pooled geometric means). */
  readonly sizeFactors: Float64Array;
  /** Design matrix, n×p row-major, and its column names. */
  readonly design: Float64Array;
  readonly columns: readonly string[];
}

/** Parse a transcript's text (JSON Lines). */
export function parseTranscript(text: string): TranscriptRecord[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as TranscriptRecord);
}

/** The records of a transcript file, read line by line (files of any size). */
export function* readTranscript(file: string): Generator<TranscriptRecord> {
  const fd = openSync(file, "r");
  try {
    const chunk = Buffer.alloc(1 << 24);
    let pending: Buffer[] = [];
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl < 0 || nl >= read) break;
        pending.push(chunk.subarray(start, nl));
        const line = Buffer.concat(pending).toString("utf8");
        pending = [];
        if (line.trim() !== "") yield JSON.parse(line) as TranscriptRecord;
        start = nl + 1;
      }
      if (start < read) pending.push(Buffer.from(chunk.subarray(start, read)));
    }
    const rest = Buffer.concat(pending).toString("utf8");
    if (rest.trim() !== "") yield JSON.parse(rest) as TranscriptRecord;
  } finally {
    closeSync(fd);
  }
}

/** `size_factors.csv` of a run's output (sample → size factor, exactly as computed). */
export function readSizeFactorsCsv(file: string): Map<string, number> {
  const lines = readFileSync(file, "utf8").trimEnd().split(/\r?\n/);
  const out = new Map<string, number>();
  for (const line of lines.slice(1)) {
    const comma = line.lastIndexOf(",");
    out.set(line.slice(0, comma), Number(line.slice(comma + 1)));
  }
  return out;
}

/** Every center's data of a pooled dataset folder (as `run --data` splits it). */
export async function datasetCenters(dir: string): Promise<CenterData[]> {
  const dataset = await readDataset(dir);
  return dataset.centers.map((name) => centerDataFromDataset(dataset, name));
}

/**
 * The attacker's view of the centers: their data with the run's design matrix (levels merged
 * over the centers, as the run does) and their size factors, genes in the first center's order.
 */
export function privateCenters(
  centers: readonly CenterData[],
  design: string,
  sizeFactors: ReadonlyMap<string, number>,
  references: References = {},
): PrivateCenter[] {
  const formula = parseFormula(design);
  const levels = mergeLevels(centers.map((c) => localLevels(c.metadata, formula)));
  const genes = centers[0].genes;
  return centers.map((c) => {
    const n = c.samples.length;
    const row = new Map(c.genes.map((g, r) => [g, r]));
    const counts = new Float64Array(genes.length * n);
    genes.forEach((g, a) => {
      const r = row.get(g);
      if (r === undefined) throw new Error(`center ${c.name} lacks gene ${g}`);
      counts.set(c.counts.subarray(r * n, r * n + n), a * n);
    });
    const matrix = designMatrix(c.metadata, formula, levels, references);
    return {
      name: c.name,
      samples: c.samples,
      genes,
      counts,
      sizeFactors: Float64Array.from(c.samples, (s) => {
        const sf = sizeFactors.get(s);
        if (sf === undefined) throw new Error(`no size factor for sample ${s}`);
        return sf;
      }),
      design: matrix.matrix,
      columns: matrix.columns,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Candidates

/** Per-gene, per-sample kinds (count kinds, skipped for y = 0). */
const COUNT_KINDS = ["y", "y/s", "(y/s)^2", "ln(y/s+0.1)", "ln(y)", "ln(y/s)"] as const;
/** Per-sample kinds (no gene). */
const SAMPLE_KINDS = ["s", "1/s", "ln(s)"] as const;
/** Kinds of a design value of a continuous covariate. */
const DESIGN_KINDS = ["x", "x^2"] as const;

const PAIR = " (2 samples)";

/** Every candidate kind, by code: count kinds, their pair sums, sample kinds, pair sums, design. */
export const CANDIDATE_KINDS: readonly string[] = [
  ...COUNT_KINDS,
  ...COUNT_KINDS.map((k) => `${k}${PAIR}`),
  ...SAMPLE_KINDS,
  ...SAMPLE_KINDS.slice(0, 2).map((k) => `${k}${PAIR}`),
  ...DESIGN_KINDS,
  ...DESIGN_KINDS.map((k) => `${k}${PAIR}`),
];
const NC = COUNT_KINDS.length;
/** The kind ln(y/s + 0.1), the one count kind kept for y = 0 (its value ln 0.1 says y = 0). */
const LOG_SHIFTED = 3;
const LN_TENTH = Math.log(0.1);
const KIND_SAMPLE = 2 * NC;
const KIND_SAMPLE_PAIR = KIND_SAMPLE + SAMPLE_KINDS.length;
const KIND_DESIGN = KIND_SAMPLE_PAIR + 2;
const KIND_DESIGN_PAIR = KIND_DESIGN + DESIGN_KINDS.length;

/** True for the kinds that expose one sample's count y (y, y/s, (y/s)², and their logs). */
export function isCountKind(kind: string): boolean {
  return (COUNT_KINDS as readonly string[]).includes(kind);
}

/** One candidate's origin: kind, gene (-1: none), sample(s) (j = -1: one sample), column. */
export interface Provenance {
  readonly kind: string;
  readonly gene: number;
  readonly i: number;
  readonly j: number;
  /** Design column, for design kinds (-1 otherwise). */
  readonly column: number;
}

/** Which pairs of samples a center's candidates cover. */
export type PairScope = "center" | "cell" | "none";

function countValues(y: number, s: number, out: Float64Array): void {
  const v = y / s;
  out[0] = y;
  out[1] = v;
  out[2] = v * v;
  out[3] = Math.log(v + 0.1);
  out[4] = Math.log(y);
  out[5] = Math.log(v);
}

/** The pairs (i < j) of samples a center's candidates cover. */
function samplePairs(center: PrivateCenter, scope: PairScope): Int32Array {
  const n = center.samples.length;
  const p = center.columns.length;
  const pairs: number[] = [];
  if (scope === "none") return new Int32Array(0);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (scope === "cell") {
        let same = true;
        for (let k = 0; k < p && same; k++)
          same = center.design[i * p + k] === center.design[j * p + k];
        if (!same) continue;
      }
      pairs.push(i, j);
    }
  }
  return Int32Array.from(pairs);
}

/** Columns of the design that hold a value other than 0 and 1 (continuous covariates). */
function continuousColumns(center: PrivateCenter): number[] {
  const p = center.columns.length;
  const out: number[] = [];
  for (let k = 0; k < p; k++) {
    for (let i = 0; i < center.samples.length; i++) {
      const x = center.design[i * p + k];
      if (x !== 0 && x !== 1) {
        out.push(k);
        break;
      }
    }
  }
  return out;
}

type Visit = (
  value: number,
  kind: number,
  gene: number,
  i: number,
  j: number,
  column: number,
) => void;

const scratchA = new Float64Array(NC);
const scratchB = new Float64Array(NC);

/** Visit the candidates of one gene of a center (count kinds and their pair sums). */
function forEachGeneCandidate(
  center: PrivateCenter,
  pairs: Int32Array,
  g: number,
  visit: Visit,
): void {
  const n = center.samples.length;
  const s = center.sizeFactors;
  const a = scratchA;
  const b = scratchB;
  const base = g * n;
  for (let i = 0; i < n; i++) {
    const y = center.counts[base + i];
    if (y > 0) {
      countValues(y, s[i], a);
      for (let k = 0; k < NC; k++) visit(a[k], k, g, i, -1, -1);
    } else visit(LN_TENTH, LOG_SHIFTED, g, i, -1, -1);
  }
  for (let q = 0; q < pairs.length; q += 2) {
    const i = pairs[q];
    const j = pairs[q + 1];
    const yi = center.counts[base + i];
    const yj = center.counts[base + j];
    if (yi > 0 && yj > 0) {
      countValues(yi, s[i], a);
      countValues(yj, s[j], b);
      for (let k = 0; k < NC; k++) visit(a[k] + b[k], NC + k, g, i, j, -1);
    } else {
      // ln(y/s + 0.1) is ln 0.1 for y = 0, not 0: its pair sums with a zero are kept.
      const li = yi > 0 ? Math.log(yi / s[i] + 0.1) : LN_TENTH;
      const lj = yj > 0 ? Math.log(yj / s[j] + 0.1) : LN_TENTH;
      visit(li + lj, NC + LOG_SHIFTED, g, i, j, -1);
    }
  }
}

/** Visit every candidate of a center: value, kind code, gene, samples, design column. */
function forEachCandidate(center: PrivateCenter, pairs: Int32Array, visit: Visit): void {
  const n = center.samples.length;
  const s = center.sizeFactors;
  const genes = center.genes.length;
  for (let g = 0; g < genes; g++) forEachGeneCandidate(center, pairs, g, visit);
  for (let i = 0; i < n; i++) {
    visit(s[i], KIND_SAMPLE, -1, i, -1, -1);
    visit(1 / s[i], KIND_SAMPLE + 1, -1, i, -1, -1);
    visit(Math.log(s[i]), KIND_SAMPLE + 2, -1, i, -1, -1);
  }
  for (let q = 0; q < pairs.length; q += 2) {
    const i = pairs[q];
    const j = pairs[q + 1];
    visit(s[i] + s[j], KIND_SAMPLE_PAIR, -1, i, j, -1);
    visit(1 / s[i] + 1 / s[j], KIND_SAMPLE_PAIR + 1, -1, i, j, -1);
  }
  const p = center.columns.length;
  for (const k of continuousColumns(center)) {
    for (let i = 0; i < n; i++) {
      const x = center.design[i * p + k];
      visit(x, KIND_DESIGN, -1, i, -1, k);
      visit(x * x, KIND_DESIGN + 1, -1, i, -1, k);
    }
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const xi = center.design[i * p + k];
        const xj = center.design[j * p + k];
        visit(xi + xj, KIND_DESIGN_PAIR, -1, i, j, k);
        visit(xi * xi + xj * xj, KIND_DESIGN_PAIR + 1, -1, i, j, k);
      }
    }
  }
}

/** A center's candidate values, sorted (finite values only). */
function candidateIndex(center: PrivateCenter, pairs: Int32Array): Float64Array {
  let size = 0;
  forEachCandidate(center, pairs, () => {
    size++;
  });
  const values = new Float64Array(size);
  let m = 0;
  forEachCandidate(center, pairs, (v) => {
    if (Number.isFinite(v)) values[m++] = v;
  });
  return values.subarray(0, m).sort();
}

/** First index of `sorted` whose value is ≥ x. */
function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The distinct candidate values within a relative `tolerance` of v. */
function lookUp(sorted: Float64Array, v: number, tolerance: number): number[] {
  const width = Math.abs(v) * tolerance * (1 + 1e-9);
  const out: number[] = [];
  for (let k = lowerBound(sorted, v - width); k < sorted.length && sorted[k] <= v + width; k++) {
    if (out.length === 0 || out[out.length - 1] !== sorted[k]) out.push(sorted[k]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scanning

/** Options of {@link scanTranscript}. */
export interface ScanOptions {
  /** Relative tolerance of a match (default 1e-12; 0: exact equality only). */
  readonly tolerance?: number;
  /**
   * Pairs of samples enumerated: all pairs of a center ("center"), pairs with the same design
   * row ("cell") or none. Default: "center" up to 24 samples per center, else "cell".
   */
  readonly pairs?: PairScope;
  /** Matches kept as examples per step and field (default 5). */
  readonly examples?: number;
  /** Provenances kept per matched candidate value (default 32; the rest are counted). */
  readonly maxProvenances?: number;
}

/** One transmitted number equal to a candidate. */
export interface Match {
  readonly center: string;
  readonly step: string;
  readonly round: number;
  readonly field: string;
  /** Position in the field's values (0 for a scalar). */
  readonly position: number;
  readonly value: number;
  /** True when equal to a candidate bit for bit. */
  readonly exact: boolean;
  /** The kinds of the candidates it equals. */
  readonly kinds: readonly string[];
  /** The candidates it equals (up to `maxProvenances`). */
  readonly provenances: readonly Provenance[];
  /** The (gene, sample) whose count it exposes, when the match pins one down (see report). */
  readonly exposes: { readonly gene: number; readonly sample: number } | null;
}

/** What the scan found for one step's field. */
export interface FieldScan {
  readonly step: string;
  readonly field: string;
  /** Numbers sent (nulls, i.e. NaN and ±∞, and strings not counted). */
  numbers: number;
  /** Of which trivial (0, ±1, whole numbers up to the federation's sample count). */
  trivial: number;
  /** Non-trivial numbers equal to a candidate. */
  matched: number;
  /** Of the matched, those equal bit for bit. */
  exact: number;
  /**
   * True when the field's length says which gene each value belongs to (blocks of values per
   * gene, over all genes or over the genes with a count).
   */
  geneAxis: boolean;
  /**
   * Of the matched, those equal to a candidate of the gene their position names (when
   * `geneAxis`): the value is that gene's function of one or two samples, not a coincidence
   * with another gene's (products of small counts make ln y sums collide across genes).
   */
  matchedAtGene: number;
  /** Matches per candidate kind (a number matching several kinds counts for each). */
  readonly byKind: Record<string, number>;
  /** Distinct (center, gene, sample) counts this field exposes. */
  exposedCounts: number;
  /** Centers whose numbers matched. */
  readonly centers: Set<string>;
  readonly examples: Match[];
}

/**
 * Per center: non-zero counts y exposed, over all its counts and over its non-zero counts (zero
 * counts exposed by ln(y/s + 0.1) = ln 0.1 are not counted).
 */
export interface Exposure {
  readonly center: string;
  readonly counts: number;
  readonly nonZeroCounts: number;
  /**
   * Distinct (gene, sample) pinned down by values of fields without a gene axis, equal to one
   * candidate only among all genes' (the value alone says which count it is).
   */
  readonly uniquelyExposed: number;
  /** Those and the ones pinned down among the candidates of the gene a value's position names. */
  readonly exposed: number;
}

/** A scan's findings. */
export interface ScanReport {
  /** Per step and field, in order of first appearance. */
  readonly fields: FieldScan[];
  readonly exposure: Exposure[];
  /** Candidates per center, and the pair scope used. */
  readonly candidates: Record<string, number>;
  readonly pairs: Record<string, PairScope>;
  /** Numbers scanned in all, and records. */
  readonly numbers: number;
  readonly records: number;
}

/** Numeric values of a field, in order (nested lists flattened; null and strings as NaN). */
function numbersOf(value: unknown, out: number[]): void {
  if (typeof value === "number") out.push(value);
  else if (value === null || typeof value === "string") out.push(Number.NaN);
  else if (Array.isArray(value)) for (const v of value) numbersOf(v, out);
  else if (typeof value === "object")
    for (const v of Object.values(value as object)) numbersOf(v, out);
}

/**
 * True for a value any set of samples could produce: 0, ±1, whole numbers up to the
 * federation's sample count, and whole numbers sent as a scalar field (`scalar`: counters and
 * sizes such as a round number or a gene count).
 */
export function isTrivial(v: number, samples: number, scalar = false): boolean {
  return (
    v === 0 || Math.abs(v) === 1 || (Number.isInteger(v) && (scalar || Math.abs(v) <= samples))
  );
}

/**
 * The gene of each position of a per-gene field, when its length says which gene list it
 * follows (all genes, or the genes with a count, in blocks of up to 64 values per gene).
 */
function geneAxis(
  length: number,
  genes: number,
  fitted: Int32Array,
): ((position: number) => number) | null {
  if (genes > 0 && length % genes === 0 && length / genes <= 64) {
    const block = length / genes;
    return (pos) => Math.floor(pos / block);
  }
  const f = fitted.length;
  if (f > 0 && length % f === 0 && length / f <= 64) {
    const block = length / f;
    return (pos) => fitted[Math.floor(pos / block)];
  }
  return null;
}

interface PendingMatch {
  readonly scan: FieldScan;
  readonly round: number;
  readonly field: string;
  readonly position: number;
  readonly value: number;
  readonly candidates: number[];
  readonly axisGene: number;
}

/**
 * Scan a transcript for numbers equal to functions of one or two samples of the sending center.
 * @param centers - every center's private data (records of other centers are ignored)
 * @param records - the transcript, e.g. {@link readTranscript}
 */
export function scanTranscript(
  centers: readonly PrivateCenter[],
  records: Iterable<TranscriptRecord>,
  options: ScanOptions = {},
): ScanReport {
  const tolerance = options.tolerance ?? 1e-12;
  const keep = options.examples ?? 5;
  const maxProvenances = options.maxProvenances ?? 32;
  const totalSamples = centers.reduce((a, c) => a + c.samples.length, 0);
  const byName = new Map(centers.map((c) => [c.name, c]));
  const pairsOf = new Map<string, Int32Array>();
  const scopes: Record<string, PairScope> = {};
  const indexes = new Map<string, Float64Array>();
  const candidates: Record<string, number> = {};
  for (const c of centers) {
    const scope = options.pairs ?? (c.samples.length <= 24 ? "center" : "cell");
    scopes[c.name] = scope;
    const pairs = samplePairs(c, scope);
    pairsOf.set(c.name, pairs);
    const index = candidateIndex(c, pairs);
    indexes.set(c.name, index);
    candidates[c.name] = index.length;
  }
  const genes = centers[0]?.genes.length ?? 0;
  const fitted = genesWithCounts(centers);

  const fields = new Map<string, FieldScan>();
  const pending = new Map<string, PendingMatch[]>();
  const matchedValues = new Map<string, Set<number>>();
  let numbers = 0;
  let recordCount = 0;
  const values: number[] = [];
  for (const record of records) {
    recordCount++;
    const index = indexes.get(record.center);
    for (const [field, raw] of Object.entries(record.fields)) {
      const key = `${record.step}.${field}`;
      let scan = fields.get(key);
      if (scan === undefined) {
        scan = {
          step: record.step,
          field,
          numbers: 0,
          trivial: 0,
          matched: 0,
          exact: 0,
          geneAxis: false,
          matchedAtGene: 0,
          byKind: {},
          exposedCounts: 0,
          centers: new Set(),
          examples: [],
        };
        fields.set(key, scan);
      }
      values.length = 0;
      numbersOf(raw, values);
      const scalar = !Array.isArray(raw);
      const axis = scalar ? null : geneAxis(values.length, genes, fitted);
      if (axis !== null) scan.geneAxis = true;
      for (let pos = 0; pos < values.length; pos++) {
        const v = values[pos];
        if (!Number.isFinite(v)) continue;
        scan.numbers++;
        numbers++;
        if (isTrivial(v, totalSamples, scalar)) {
          scan.trivial++;
          continue;
        }
        if (index === undefined) continue;
        const found = lookUp(index, v, tolerance);
        if (found.length === 0) continue;
        let list = pending.get(record.center);
        if (list === undefined) {
          list = [];
          pending.set(record.center, list);
        }
        list.push({
          scan,
          round: record.round,
          field,
          position: pos,
          value: v,
          candidates: found,
          axisGene: axis === null ? -1 : axis(pos),
        });
        let set = matchedValues.get(record.center);
        if (set === undefined) {
          set = new Set();
          matchedValues.set(record.center, set);
        }
        for (const x of found) set.add(x);
      }
    }
  }

  // Second pass: the provenance of every matched candidate value.
  const exposedUnique = new Map<string, Set<number>>();
  const exposedAll = new Map<string, Set<number>>();
  const exposedByField = new Map<FieldScan, Set<string>>();
  for (const [name, list] of pending) {
    const center = byName.get(name)!;
    const pairs = pairsOf.get(name)!;
    const n = center.samples.length;
    const wanted = matchedValues.get(name)!;
    const origins = new Map<number, { list: Provenance[]; total: number }>();
    forEachCandidate(center, pairs, (v, kind, gene, i, j, column) => {
      if (!wanted.has(v)) return;
      let o = origins.get(v);
      if (o === undefined) {
        o = { list: [], total: 0 };
        origins.set(v, o);
      }
      o.total++;
      if (o.list.length < maxProvenances) {
        o.list.push({ kind: CANDIDATE_KINDS[kind], gene, i, j, column });
      }
    });
    const unique = new Set<number>();
    const all = new Set<number>();
    exposedUnique.set(name, unique);
    exposedAll.set(name, all);
    for (const m of list) {
      const provenances: Provenance[] = [];
      let total = 0;
      for (const c of m.candidates) {
        const o = origins.get(c);
        if (o === undefined) continue;
        provenances.push(...o.list);
        total += o.total;
      }
      const kinds = [...new Set(provenances.map((p) => p.kind))];
      const scan = m.scan;
      scan.matched++;
      const exact = m.candidates.includes(m.value);
      if (exact) scan.exact++;
      for (const k of kinds) scan.byKind[k] = (scan.byKind[k] ?? 0) + 1;
      scan.centers.add(name);
      // The candidates of the gene the position names, equal to the value.
      const here: Provenance[] = [];
      if (m.axisGene >= 0) {
        forEachGeneCandidate(center, pairs, m.axisGene, (v, kind, gene, i, j) => {
          if (m.candidates.includes(v)) {
            here.push({ kind: CANDIDATE_KINDS[kind], gene, i, j, column: -1 });
          }
        });
        if (here.length > 0 || provenances.some((p) => p.gene < 0)) scan.matchedAtGene++;
      }
      // A count is exposed when the number equals one sample's function of one count, and
      // only one (gene, sample) has it: among the candidates of the gene its position names
      // (fields with a gene axis), or among all candidates (fields without).
      let exposes: Match["exposes"] = null;
      const single = (found: readonly Provenance[]) =>
        found.length > 0 && found.every((p) => p.j < 0 && isCountKind(p.kind));
      if (m.axisGene >= 0) {
        if (single(here) && here.every((p) => p.i === here[0].i)) {
          exposes = { gene: here[0].gene, sample: here[0].i };
        }
      } else if (single(provenances) && total === provenances.length) {
        const cells = new Set(provenances.map((p) => p.gene * n + p.i));
        if (cells.size === 1) {
          exposes = { gene: provenances[0].gene, sample: provenances[0].i };
          if (center.counts[provenances[0].gene * n + provenances[0].i] > 0) {
            unique.add(provenances[0].gene * n + provenances[0].i);
          }
        }
      }
      // (A zero count exposed, by ln 0.1, is reported in the match but not counted.)
      if (exposes !== null && center.counts[exposes.gene * n + exposes.sample] > 0) {
        const cell = exposes.gene * n + exposes.sample;
        all.add(cell);
        let set = exposedByField.get(scan);
        if (set === undefined) {
          set = new Set();
          exposedByField.set(scan, set);
        }
        set.add(`${name}\u0000${cell}`);
      }
      if (scan.examples.length < keep) {
        scan.examples.push({
          center: name,
          step: scan.step,
          round: m.round,
          field: m.field,
          position: m.position,
          value: m.value,
          exact,
          kinds,
          provenances: (here.length > 0 ? here : provenances).slice(0, 4),
          exposes,
        });
      }
    }
  }
  for (const [scan, set] of exposedByField) scan.exposedCounts = set.size;
  const exposure = centers.map((c) => {
    let nonZero = 0;
    for (const y of c.counts) if (y > 0) nonZero++;
    return {
      center: c.name,
      counts: c.counts.length,
      nonZeroCounts: nonZero,
      uniquelyExposed: exposedUnique.get(c.name)?.size ?? 0,
      exposed: exposedAll.get(c.name)?.size ?? 0,
    };
  });
  return {
    fields: [...fields.values()],
    exposure,
    candidates,
    pairs: scopes,
    numbers,
    records: recordCount,
  };
}

/** Indices of the genes with a non-zero count at some center (the genes a run fits). */
function genesWithCounts(centers: readonly PrivateCenter[]): Int32Array {
  const genes = centers[0]?.genes.length ?? 0;
  const out: number[] = [];
  for (let g = 0; g < genes; g++) {
    const any = centers.some((c) => {
      const n = c.samples.length;
      for (let i = 0; i < n; i++) if (c.counts[g * n + i] > 0) return true;
      return false;
    });
    if (any) out.push(g);
  }
  return Int32Array.from(out);
}

/** The fields (as `step.field`) with non-trivial matches. */
export function leakingFields(report: ScanReport): string[] {
  return report.fields.filter((f) => f.matched > 0).map((f) => `${f.step}.${f.field}`);
}

// ---------------------------------------------------------------------------------------------
// Structure

/** How many of a center's samples each value of a field is computed from (null: unknown). */
type Rule = (
  center: PrivateCenter,
  record: TranscriptRecord,
  values: number[],
  context: StructureContext,
) => Int32Array | null;

interface StructureContext {
  /** The federation's distinct design rows, in order of first appearance (D×p). */
  readonly pooledRows: Float64Array;
  /** The genes with a count at some center (the genes a run fits), by index. */
  readonly fitted: Int32Array;
}

/** Samples whose design row has x_k ≠ 0 (and, with `counts`, y > 0 at gene g). */
function columnSupport(center: PrivateCenter, k: number, l = k): number {
  const n = center.samples.length;
  const p = center.columns.length;
  let m = 0;
  for (let i = 0; i < n; i++)
    if (center.design[i * p + k] !== 0 && center.design[i * p + l] !== 0) m++;
  return m;
}

/** Blocks of p values, Xᵀv per column: the samples with x_k ≠ 0. */
const columnsRule: Rule = (center, _record, values) => {
  const p = center.columns.length;
  if (values.length % p !== 0) return null;
  const per = Array.from({ length: p }, (_, k) => columnSupport(center, k));
  return Int32Array.from(values, (_, pos) => per[pos % p]);
};

/** Blocks of p×p or p(p+1)/2 values (XᵀWX, full or upper triangle): samples with x_k·x_l ≠ 0. */
const productsRule: Rule = (center, _record, values) => {
  const p = center.columns.length;
  const pairs: number[] = [];
  if (values.length % (p * p) === 0) {
    for (let k = 0; k < p; k++) for (let l = 0; l < p; l++) pairs.push(columnSupport(center, k, l));
  } else if (values.length % ((p * (p + 1)) / 2) === 0) {
    for (let k = 0; k < p; k++) for (let l = k; l < p; l++) pairs.push(columnSupport(center, k, l));
  } else return null;
  return Int32Array.from(values, (_, pos) => pairs[pos % pairs.length]);
};

/** Every value from all the center's samples. */
const allRule: Rule = (center, _record, values) =>
  new Int32Array(values.length).fill(center.samples.length);

/** Each value from one sample (per-sample values, maxima over samples). */
const oneRule: Rule = (_center, _record, values) => new Int32Array(values.length).fill(1);

/**
 * Per-gene sums of y/s (or ln y) over all samples: the samples with y > 0, when the field has
 * one value per gene (all genes, or the genes with a count); else all samples.
 */
const countSumRule: Rule = (center, record, values, context) => {
  const n = center.samples.length;
  const genes = center.genes.length;
  let geneAt: ((pos: number) => number) | null = null;
  if (values.length === genes) geneAt = (pos) => pos;
  else if (values.length === context.fitted.length) geneAt = (pos) => context.fitted[pos];
  if (geneAt === null) return allRule(center, record, values, context);
  return Int32Array.from(values, (_, pos) => {
    const g = geneAt(pos);
    let m = 0;
    for (let i = 0; i < n; i++) if (center.counts[g * n + i] > 0) m++;
    return m;
  });
};

/** Xᵀ(y/s) per gene and column (every gene): the samples with x_k ≠ 0 and y > 0. */
const columnCountSumRule: Rule = (center, record, values, context) => {
  const n = center.samples.length;
  const p = center.columns.length;
  const genes = center.genes.length;
  if (values.length !== genes * p) return columnsRule(center, record, values, context);
  return Int32Array.from(values, (_, pos) => {
    const g = Math.floor(pos / p);
    const k = pos % p;
    let m = 0;
    for (let i = 0; i < n; i++)
      if (center.design[i * p + k] !== 0 && center.counts[g * n + i] > 0) m++;
    return m;
  });
};

/** Distinct design rows of the center (values of a row: that row's samples). */
const rowsRule: Rule = (center, _record, values) => {
  const p = center.columns.length;
  const n = center.samples.length;
  const sizes: number[] = [];
  const seen: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = Array.from(center.design.subarray(i * p, i * p + p)).join(",");
    const d = seen.indexOf(key);
    if (d < 0) {
      seen.push(key);
      sizes.push(1);
    } else sizes[d]++;
  }
  if (values.length !== sizes.length * p) return null;
  return Int32Array.from(values, (_, pos) => sizes[Math.floor(pos / p)]);
};

/** The dispersion grid's Cox–Reid matrices: upper triangles, or one value per pooled design row. */
const gridGramRule: Rule = (center, record, values, context) => {
  const p = center.columns.length;
  const ll = record.fields.logLikelihood;
  const points = Array.isArray(ll) ? ll.length : 0;
  if (points === 0 || values.length % points !== 0) return null;
  const q = values.length / points;
  if (q === (p * (p + 1)) / 2) return productsRule(center, record, values, context);
  const rows = context.pooledRows.length / p;
  if (q !== rows) return null;
  const n = center.samples.length;
  const sizes = new Array<number>(rows).fill(0);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < rows; d++) {
      let same = true;
      for (let k = 0; k < p && same; k++)
        same = center.design[i * p + k] === context.pooledRows[d * p + k];
      if (same) {
        sizes[d]++;
        break;
      }
    }
  }
  return Int32Array.from(values, (_, pos) => sizes[pos % q]);
};

/**
 * The structure of the fields known to be computed from selected samples (`step.field` → rule).
 * Fields not listed (masks, counts of samples or values, sizes, identifiers) are not judged.
 */
export const structureRules: Readonly<Record<string, Rule>> = {
  "sizeFactors.sizeFactors": oneRule,
  "logSums.logSums": countSumRule,
  "prepare.normalizedSums": countSumRule,
  "prepare.gram": productsRule,
  "init.gram": productsRule,
  "init.logFeatures": columnsRule,
  "dispersionMoments.inverseSizeFactorSum": allRule,
  "dispersionMoments.gram": productsRule,
  "dispersionMoments.designRows": rowsRule,
  "dispersionMoments.normalizedSum": countSumRule,
  "dispersionMoments.designTimesNormalized": columnCountSumRule,
  "dispersionResiduals.squaredDeviations": allRule,
  "dispersionResiduals.roughResiduals": allRule,
  "dispersionGrid.logLikelihood": allRule,
  "dispersionGrid.logLikelihoodSlope": allRule,
  "dispersionGrid.gram": gridGramRule,
  "dispersionGrid.gramSlope": gridGramRule,
  "deseq2Irls.nll": allRule,
  "deseq2Irls.xtwx": productsRule,
  "deseq2Irls.xtwz": columnsRule,
  "nllAtPoints.nll": allRule,
  // DESeq2's iterative size factors: sums over all the center's samples (of their roots, and
  // per gene of their log-likelihoods at the candidate).
  "sizeFactorRoot.logSum": allRule,
  "sizeFactorRoot.slope": allRule,
  "sizeFactorCandidate.geneLogLik": allRule,
  "sizeFactorCandidate.moved": allRule,
  "apeglm.nll": allRule,
  "apeglm.score": columnsRule,
  "apeglm.information": productsRule,
  // The PCA's sums are over all the center's samples (of its transformed counts); the
  // coordinates, sent only under a plan's pca_coordinates, are one sample's each.
  "pcaMoments.sum": allRule,
  "pcaMoments.sumSquares": allRule,
  "pcaProduct.product": allRule,
  "pcaCoordinates.coordinates": oneRule,
  "information.xtwx": productsRule,
  // Σ y/s over the counts with outliers replaced: judged on the original counts' zeros. (The
  // private Cook's sums, `cooksPrivateSums.sums`, are over the samples of a grid range the
  // request names: not judged here.)
  "cooksPrivate.replacedNormalizedSum": countSumRule,
};

/** What the structure says of one step's field. */
export interface FieldStructure {
  readonly step: string;
  readonly field: string;
  /** Finite numbers sent. */
  numbers: number;
  /** Of which computed from exactly one, or two, of the center's samples. */
  fromOne: number;
  fromTwo: number;
  /** Of those from one or two samples, the non-trivial values. */
  nonTrivial: number;
  /** False when no rule describes the field (or its layout was not recognised). */
  judged: boolean;
}

/** The federation's distinct design rows, centers in order, rows in order of first appearance. */
function pooledDesignRows(centers: readonly PrivateCenter[]): Float64Array {
  const seen = new Set<string>();
  const rows: number[] = [];
  for (const c of centers) {
    const p = c.columns.length;
    for (let i = 0; i < c.samples.length; i++) {
      const row = Array.from(c.design.subarray(i * p, i * p + p));
      const key = row.join(",");
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push(...row);
    }
  }
  return Float64Array.from(rows);
}

/**
 * Detection by structure: per step and field, how many values were computed from one or two of
 * the sending center's samples (whatever their value).
 */
export function structureScan(
  centers: readonly PrivateCenter[],
  records: Iterable<TranscriptRecord>,
): FieldStructure[] {
  const byName = new Map(centers.map((c) => [c.name, c]));
  const context: StructureContext = {
    pooledRows: pooledDesignRows(centers),
    fitted: genesWithCounts(centers),
  };
  const totalSamples = centers.reduce((a, c) => a + c.samples.length, 0);
  const out = new Map<string, FieldStructure>();
  const values: number[] = [];
  for (const record of records) {
    const center = byName.get(record.center);
    for (const [field, raw] of Object.entries(record.fields)) {
      const key = `${record.step}.${field}`;
      let row = out.get(key);
      if (row === undefined) {
        row = {
          step: record.step,
          field,
          numbers: 0,
          fromOne: 0,
          fromTwo: 0,
          nonTrivial: 0,
          judged: false,
        };
        out.set(key, row);
      }
      values.length = 0;
      numbersOf(raw, values);
      for (const v of values) if (Number.isFinite(v)) row.numbers++;
      const rule = structureRules[key];
      if (rule === undefined || center === undefined) continue;
      const support = rule(center, record, values, context);
      if (support === null) continue;
      row.judged = true;
      for (let pos = 0; pos < values.length; pos++) {
        const v = values[pos];
        const m = support[pos];
        if (!Number.isFinite(v) || m < 1 || m > 2) continue;
        if (m === 1) row.fromOne++;
        else row.fromTwo++;
        if (!isTrivial(v, totalSamples)) row.nonTrivial++;
      }
    }
  }
  return [...out.values()];
}

// ---------------------------------------------------------------------------------------------
// The pooled view: what the aggregator decodes under secure aggregation

/** Every center's data as one center "pooled" (samples in federation order). */
export function pooledCenter(centers: readonly PrivateCenter[]): PrivateCenter {
  const genes = centers[0].genes;
  const n = centers.reduce((a, c) => a + c.samples.length, 0);
  const p = centers[0].columns.length;
  const counts = new Float64Array(genes.length * n);
  const design = new Float64Array(n * p);
  const sizeFactors = new Float64Array(n);
  let offset = 0;
  for (const c of centers) {
    const m = c.samples.length;
    for (let g = 0; g < genes.length; g++)
      counts.set(c.counts.subarray(g * m, (g + 1) * m), g * n + offset);
    design.set(c.design, offset * p);
    sizeFactors.set(c.sizeFactors, offset);
    offset += m;
  }
  return {
    name: "pooled",
    samples: centers.flatMap((c) => c.samples),
    genes,
    counts,
    sizeFactors,
    design,
    columns: centers[0].columns,
  };
}

/**
 * The sums over centers of every summed field of a clear transcript, one record per step and
 * round from center "pooled": the numbers a secure-aggregation aggregator decodes (secure and
 * clear runs give the same pooled doubles; the other fields it never receives in clear).
 */
export function pooledTranscript(records: Iterable<TranscriptRecord>): TranscriptRecord[] {
  const byRound = new Map<string, TranscriptRecord[]>();
  for (const r of records) {
    const key = `${r.step}\u0000${r.round}`;
    const list = byRound.get(key) ?? [];
    list.push(r);
    byRound.set(key, list);
  }
  const pooled: TranscriptRecord[] = [];
  for (const list of byRound.values()) {
    const fields: Record<string, number | number[]> = {};
    for (const name of summedFields(list[0].step as StepName)) {
      const values = list.map((r) => r.fields[name]).filter((v) => v !== undefined);
      if (values.length === 0) continue;
      if (typeof values[0] === "number") {
        fields[name] = (values as number[]).reduce((a, b) => a + b, 0);
      } else {
        const sum = (values[0] as number[]).slice();
        for (const v of values.slice(1))
          for (const [i, x] of (v as number[]).entries()) sum[i] += x;
        fields[name] = sum;
      }
    }
    pooled.push({ center: "pooled", step: list[0].step, round: list[0].round, fields });
  }
  return pooled;
}
