/**
 * Reading AnnData `.h5ad` files (HDF5) with h5wasm, HDF5 compiled to WebAssembly: no native
 * library, no download at install time.
 *
 * The encoding read is AnnData's since version 0.8 (`encoding-type` attributes):
 *
 * - `X`, or `layers/NAME`: the counts, observations (samples) × variables (genes), either a
 *   dense dataset or a sparse group (`encoding-type` `csr_matrix` or `csc_matrix`, attribute
 *   `shape`, datasets `data`, `indices`, `indptr`; repeated entries add up, as in scipy);
 * - `obs`: a dataframe group (attribute `_index` names the dataset of sample ids, attribute
 *   `column-order` lists the columns), whose columns are datasets (strings, numbers,
 *   booleans) or groups: `categorical` (`categories` + `codes`, code −1 missing) and
 *   `nullable-integer` / `nullable-boolean` / `nullable-string-array` (`values` + `mask`);
 * - `var`: a dataframe group whose index gives the gene ids.
 *
 * Metadata values become strings as pandas writes them to CSV: numbers in shortest form,
 * booleans `True`/`False`, missing values empty.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import h5wasm from "h5wasm/node";
import { countValue, countValueProblem, MAX_COUNT } from "./counts.js";
import { InputError, listForMessage, quote, unreadableFile } from "./errors.js";

/** Options of {@link readH5ad}. */
export interface H5adOptions {
  /** Read the counts from `layers/NAME` instead of `X`. */
  readonly layer?: string;
  /** Round non-integer counts (half to even) instead of rejecting them. */
  readonly roundCounts?: boolean;
}

/** What an `.h5ad` file holds, in fedseq's layout. */
export interface AnnDataTable {
  /** The file (for messages). */
  readonly file: string;
  /** Gene ids (the `var` index), in file order. */
  readonly genes: string[];
  /** Sample ids (the `obs` index), in file order. */
  readonly samples: string[];
  /** Counts, gene-major: gene g, sample i at `g * samples.length + i`. */
  readonly counts: Float64Array;
  /** The `obs` columns, in `column-order`. */
  readonly columns: string[];
  /** The values of each `obs` column as strings, in sample order. */
  readonly values: Map<string, string[]>;
}

type H5File = InstanceType<typeof h5wasm.File>;
type H5Group = InstanceType<typeof h5wasm.Group>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;
type Entity = ReturnType<H5Group["get"]>;

/** Values read in one slice of a matrix (bounds the WebAssembly heap in use). */
const SLICE_VALUES = 1 << 22;

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * True when the file carries HDF5's signature, at offset 0 or at 512, 1024, 2048, … (after a
 * user block), as the HDF5 format specifies. Checked before h5wasm opens the file, which
 * would otherwise print HDF5's error stack.
 */
function hasHdf5Signature(file: string): boolean {
  const size = statSync(file).size;
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(HDF5_SIGNATURE.length);
    for (let offset = 0; offset + head.length <= size; offset = offset === 0 ? 512 : offset * 2) {
      if (
        readSync(fd, head, 0, head.length, offset) === head.length &&
        head.equals(HDF5_SIGNATURE)
      ) {
        return true;
      }
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** An attribute's value, or undefined when absent. */
function attribute(entity: H5Group | H5Dataset, name: string): unknown {
  return name in entity.attrs ? entity.get_attribute(name, false) : undefined;
}

/** An attribute read as a string (h5py writes them as scalars), or undefined. */
function stringAttribute(entity: H5Group | H5Dataset, name: string): string | undefined {
  const value = attribute(entity, name);
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === "string") return value[0];
  return undefined;
}

/** Numbers of an array read by h5wasm (typed, bigint or plain). */
function toNumbers(value: unknown): Float64Array {
  if (value instanceof Float64Array) return value;
  if (value instanceof BigInt64Array || value instanceof BigUint64Array) {
    return Float64Array.from(value, (x) => Number(x));
  }
  if (ArrayBuffer.isView(value)) return Float64Array.from(value as unknown as ArrayLike<number>);
  if (Array.isArray(value)) return Float64Array.from(value, (x) => Number(x));
  if (typeof value === "number" || typeof value === "bigint") return Float64Array.of(Number(value));
  return new Float64Array(0);
}

/** A reader bound to one open file, naming it in every error. */
class AnnDataReader {
  constructor(
    private readonly file: string,
    private readonly h5: H5File,
  ) {}

  fail(what: string): never {
    throw new InputError(`${this.file}: ${what}`);
  }

  group(path: string): H5Group {
    const entity = this.h5.get(path);
    if (!(entity instanceof h5wasm.Group)) {
      this.fail(
        entity === null
          ? `no ${quote(path)} group (not an AnnData file?)`
          : `${path} is not a group`,
      );
    }
    return entity;
  }

  dataset(group: H5Group, path: string, name: string): H5Dataset {
    const entity = group.get(name);
    if (!(entity instanceof h5wasm.Dataset)) this.fail(`no dataset ${path}/${name}`);
    return entity;
  }

  /** Strings of a string dataset (ids), checking the length. */
  strings(dataset: H5Dataset, path: string): string[] {
    const value = dataset.value;
    const list = Array.isArray(value) ? value : typeof value === "string" ? [value] : null;
    if (list === null || !list.every((s) => typeof s === "string")) {
      this.fail(`${path} is not an array of strings`);
    }
    return list as string[];
  }

  /** A dataframe group's index: ids, checked non-empty and unique. */
  index(path: "obs" | "var", what: "sample" | "gene"): string[] {
    const group = this.group(path);
    if (stringAttribute(group, "encoding-type") !== "dataframe") {
      this.fail(
        `${path} is not a dataframe in AnnData ≥ 0.8's encoding (no encoding-type "dataframe"; write the file with anndata 0.8 or later)`,
      );
    }
    const name = stringAttribute(group, "_index") ?? "_index";
    const ids = this.strings(this.dataset(group, path, name), `${path}/${name}`);
    const seen = new Map<string, number>();
    ids.forEach((id, k) => {
      if (id === "") this.fail(`${path} index entry ${k + 1}: empty ${what} id`);
      const previous = seen.get(id);
      if (previous !== undefined) {
        this.fail(
          `${path} index: ${what} ${quote(id)} is listed twice (entries ${previous + 1} and ${k + 1})`,
        );
      }
      seen.set(id, k);
    });
    return ids;
  }

  /** Values of a plain column dataset as strings. */
  columnStrings(dataset: H5Dataset, path: string): string[] {
    const value = dataset.value;
    if (Array.isArray(value) && value.every((s) => typeof s === "string")) return value as string[];
    if (typeof value === "string") return [value];
    const enumType = (dataset.metadata as { enum_type?: { members?: Record<string, number> } })
      .enum_type;
    const numbers = toNumbers(value);
    if (numbers.length === 0 && !(dataset.shape?.[0] === 0)) {
      this.fail(`column ${path}: unsupported data type`);
    }
    if (enumType?.members !== undefined) {
      const names = new Map(Object.entries(enumType.members).map(([k, v]) => [v, k]));
      const isBool = names.get(0) === "FALSE" && names.get(1) === "TRUE";
      return Array.from(numbers, (x) =>
        isBool ? (x ? "True" : "False") : (names.get(x) ?? String(x)),
      );
    }
    return Array.from(numbers, (x) => (Number.isNaN(x) ? "" : String(x)));
  }

  /** One `obs` column as strings. */
  column(obs: H5Group, name: string, n: number): string[] {
    const path = `obs/${name}`;
    const entity: Entity = obs.get(name);
    let values: string[];
    if (entity instanceof h5wasm.Dataset) {
      values = this.columnStrings(entity, path);
    } else if (entity instanceof h5wasm.Group) {
      const type = stringAttribute(entity, "encoding-type");
      if (type === "categorical") {
        const categories = this.columnStrings(
          this.dataset(entity, path, "categories"),
          `${path}/categories`,
        );
        const codes = toNumbers(this.dataset(entity, path, "codes").value);
        values = Array.from(codes, (code, i) => {
          if (code === -1) return "";
          const category = categories[code];
          if (category === undefined) {
            this.fail(`${path}: code ${code} of entry ${i + 1} is not a category`);
          }
          return category;
        });
      } else if (
        type === "nullable-integer" ||
        type === "nullable-boolean" ||
        type === "nullable-string-array"
      ) {
        const raw = this.columnStrings(this.dataset(entity, path, "values"), `${path}/values`);
        const mask = toNumbers(this.dataset(entity, path, "mask").value);
        values = raw.map((v, i) => {
          if (mask[i]) return "";
          if (type === "nullable-boolean") return v === "0" ? "False" : v === "1" ? "True" : v;
          return v;
        });
      } else {
        return this.fail(`column ${path}: unsupported encoding ${quote(type ?? "(none)")}`);
      }
    } else {
      return this.fail(`no column ${path} (listed in obs's column-order)`);
    }
    if (values.length !== n) {
      this.fail(`column ${path} has ${values.length} values, but obs has ${n} samples`);
    }
    return values;
  }

  /** The `obs` columns in `column-order`. */
  columns(n: number): { columns: string[]; values: Map<string, string[]> } {
    const obs = this.group("obs");
    const order = attribute(obs, "column-order");
    const columns =
      typeof order === "string"
        ? [order]
        : Array.isArray(order)
          ? order.filter((c): c is string => typeof c === "string")
          : [];
    const values = new Map<string, string[]>();
    for (const name of columns) {
      if (values.has(name)) this.fail(`obs column ${quote(name)} appears twice in column-order`);
      values.set(name, this.column(obs, name, n));
    }
    return { columns, values };
  }

  /** The count matrix, gene-major. */
  counts(
    layer: string | undefined,
    samples: string[],
    genes: string[],
    roundCounts: boolean,
  ): Float64Array {
    const path = layer === undefined ? "X" : `layers/${layer}`;
    const n = samples.length;
    const nGenes = genes.length;
    let entity: Entity = null;
    if (layer === undefined) {
      entity = this.h5.get("X");
      if (entity === null) this.fail("no X (the count matrix)");
    } else {
      const layers = this.h5.get("layers");
      const names = layers instanceof h5wasm.Group ? layers.keys() : [];
      if (!names.includes(layer)) {
        this.fail(`no layer ${quote(layer)} (layers: ${listForMessage(names, 8)})`);
      }
      entity = (layers as H5Group).get(layer);
    }
    // In shared memory, as the CSV readers' counts: a center's worker pool reads them in place.
    const out = new Float64Array(new SharedArrayBuffer(nGenes * n * 8));
    const check = (value: number, i: number, g: number): number => {
      if (value >= 0 && value <= MAX_COUNT && Number.isInteger(value)) return value;
      const problem = countValueProblem(value, String(value), roundCounts);
      if (problem !== undefined) {
        this.fail(`${path}[${i}, ${g}] (sample ${samples[i]}, gene ${genes[g]}): ${problem}`);
      }
      return countValue(value, true);
    };

    if (entity instanceof h5wasm.Dataset) {
      const shape = entity.shape ?? [];
      this.checkShape(path, shape, n, nGenes);
      const rows = Math.max(1, Math.floor(SLICE_VALUES / Math.max(1, nGenes)));
      for (let start = 0; start < n; start += rows) {
        const end = Math.min(n, start + rows);
        const block = toNumbers(entity.slice([[start, end], []]));
        for (let i = start; i < end; i++) {
          const offset = (i - start) * nGenes;
          for (let g = 0; g < nGenes; g++) out[g * n + i] = check(block[offset + g], i, g);
        }
      }
      return out;
    }
    if (!(entity instanceof h5wasm.Group))
      return this.fail(`${path} is neither a dataset nor a group`);
    const type = stringAttribute(entity, "encoding-type");
    if (type !== "csr_matrix" && type !== "csc_matrix") {
      this.fail(
        `${path}: unsupported encoding ${quote(type ?? "(none)")} (expected a dense array, csr_matrix or csc_matrix)`,
      );
    }
    this.checkShape(path, Array.from(toNumbers(attribute(entity, "shape"))), n, nGenes);
    const byRow = type === "csr_matrix";
    const major = byRow ? n : nGenes;
    const minor = byRow ? nGenes : n;
    const indptr = toNumbers(this.dataset(entity, path, "indptr").value);
    const data = this.dataset(entity, path, "data");
    const indices = this.dataset(entity, path, "indices");
    if (indptr.length !== major + 1) {
      this.fail(`${path}/indptr has ${indptr.length} entries, expected ${major + 1}`);
    }
    const nnz = indptr[major];
    if ((data.shape?.[0] ?? 0) !== nnz || (indices.shape?.[0] ?? 0) !== nnz) {
      this.fail(`${path}: data and indices must have indptr's last entry (${nnz}) entries`);
    }
    for (let k = 0; k < major; k++) {
      if (!(indptr[k] <= indptr[k + 1])) this.fail(`${path}/indptr decreases at entry ${k + 1}`);
    }
    let start = 0;
    while (start < major) {
      // As many major rows as fit in one slice (at least one).
      let end = start + 1;
      while (end < major && indptr[end + 1] - indptr[start] <= SLICE_VALUES) end++;
      const a = indptr[start];
      const b = indptr[end];
      if (b > a) {
        const values = toNumbers(data.slice([[a, b]]));
        const index = toNumbers(indices.slice([[a, b]]));
        for (let r = start; r < end; r++) {
          for (let k = indptr[r]; k < indptr[r + 1]; k++) {
            const c = index[k - a];
            if (!(Number.isInteger(c) && c >= 0 && c < minor)) {
              this.fail(`${path}/indices: entry ${k + 1} (${c}) is out of range [0, ${minor})`);
            }
            const i = byRow ? r : c;
            const g = byRow ? c : r;
            out[g * n + i] += check(values[k - a], i, g);
          }
        }
      }
      start = end;
    }
    return out;
  }

  checkShape(path: string, shape: number[], n: number, nGenes: number): void {
    if (shape.length !== 2 || shape[0] !== n || shape[1] !== nGenes) {
      this.fail(
        `${path} has shape [${shape.join(", ")}], expected [${n}, ${nGenes}] (samples in obs × genes in var)`,
      );
    }
  }
}

/**
 * Read an AnnData `.h5ad` file: sample ids from the `obs` index, gene ids from the `var`
 * index, sample annotations from the `obs` columns, counts from `X` (or a layer).
 * @throws InputError naming the file when it cannot be read, is not HDF5 or not AnnData ≥ 0.8,
 *   lacks the layer asked for, has an empty or repeated id, a matrix of the wrong shape, an
 *   unsupported encoding, or a count that is negative, missing or (unless `roundCounts`) not
 *   an integer (same message as for CSV files)
 */
export async function readH5ad(file: string, options: H5adOptions = {}): Promise<AnnDataTable> {
  try {
    if (!hasHdf5Signature(file)) {
      throw new InputError(`${file}: not an HDF5 file (an .h5ad file is written by AnnData)`);
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw unreadableFile(file, error);
  }
  await h5wasm.ready;
  const h5 = new h5wasm.File(file, "r");
  if (typeof h5.file_id === "bigint" && h5.file_id < 0n) {
    throw new InputError(`cannot read ${file}: HDF5 could not open it`);
  }
  try {
    const reader = new AnnDataReader(file, h5);
    const samples = reader.index("obs", "sample");
    const genes = reader.index("var", "gene");
    const { columns, values } = reader.columns(samples.length);
    const counts = reader.counts(options.layer, samples, genes, options.roundCounts === true);
    return { file, genes, samples, counts, columns, values };
  } finally {
    h5.close();
  }
}
