/**
 * Writing small AnnData `.h5ad` files with h5wasm, in AnnData ≥ 0.8's encoding, from the
 * numbers of a {@link Dataset}. Python's anndata 0.8 reads these files back (checked by
 * hand), except categorical columns: anndata stores their `ordered` attribute as an HDF5
 * boolean enum, which h5wasm cannot write (here an int8 0; fedseq's reader ignores it).
 * `test/io/fixtures/anndata/data.h5ad`, written by anndata itself, covers the real thing.
 */
import h5wasm from "h5wasm/node";
import type { Dataset } from "../../src/io/dataset.js";

type H5Group = InstanceType<typeof h5wasm.Group>;

/** How to store the count matrix. */
export type MatrixFormat = "dense" | "csr" | "csc";

/** Numeric type of the stored counts. */
export type CountType = "float32" | "float64" | "int32" | "int64";

/** An `obs` column: plain strings, numbers, or a categorical (`categories` + `codes`). */
export interface ObsColumn {
  /** Column name. */
  readonly name: string;
  /** One value per sample: strings are written as a string array, numbers as float64. */
  readonly values: readonly string[] | readonly number[];
  /** Write as a categorical (sorted `categories`, int8 `codes`). */
  readonly categorical?: boolean;
}

/** What {@link writeH5ad} writes. */
export interface H5adContent {
  /** Sample ids (`obs` index). */
  readonly samples: readonly string[];
  /** Gene ids (`var` index). */
  readonly genes: readonly string[];
  /** Counts, sample-major as AnnData stores them: sample i, gene g at `i * genes + g`. */
  readonly matrix: ArrayLike<number>;
  /** `obs` columns, in `column-order`. */
  readonly obs: readonly ObsColumn[];
  /** Storage of `X` (default dense). */
  readonly format?: MatrixFormat;
  /** Numeric type of `X` (default float32, as most pipelines write). */
  readonly countType?: CountType;
  /** Extra layers, same shape as `X`. */
  readonly layers?: Readonly<Record<string, { matrix: ArrayLike<number>; format?: MatrixFormat }>>;
}

function typed(values: ArrayLike<number>, type: CountType) {
  switch (type) {
    case "float32":
      return Float32Array.from(values);
    case "float64":
      return Float64Array.from(values);
    case "int32":
      return Int32Array.from(values);
    case "int64":
      return BigInt64Array.from(Array.from(values, (x) => BigInt(x)));
  }
}

function encoding(
  entity: H5Group | ReturnType<H5Group["create_dataset"]>,
  type: string,
  version: string,
) {
  entity.create_attribute("encoding-type", type);
  entity.create_attribute("encoding-version", version);
}

/** Write a matrix (sample-major values) as a dense dataset or a CSR/CSC group. */
function writeMatrix(
  parent: H5Group,
  name: string,
  matrix: ArrayLike<number>,
  rows: number,
  cols: number,
  format: MatrixFormat,
  type: CountType,
): void {
  if (format === "dense") {
    const d = parent.create_dataset({ name, data: typed(matrix, type), shape: [rows, cols] });
    encoding(d, "array", "0.2.0");
    return;
  }
  const byRow = format === "csr";
  const major = byRow ? rows : cols;
  const minor = byRow ? cols : rows;
  const data: number[] = [];
  const indices: number[] = [];
  const indptr: number[] = [0];
  for (let a = 0; a < major; a++) {
    for (let b = 0; b < minor; b++) {
      const value = byRow ? matrix[a * cols + b] : matrix[b * cols + a];
      if (value !== 0) {
        data.push(value);
        indices.push(b);
      }
    }
    indptr.push(data.length);
  }
  const group = parent.create_group(name);
  encoding(group, byRow ? "csr_matrix" : "csc_matrix", "0.1.0");
  group.create_attribute("shape", BigInt64Array.from([BigInt(rows), BigInt(cols)]));
  group.create_dataset({ name: "data", data: typed(data, type) });
  group.create_dataset({ name: "indices", data: Int32Array.from(indices) });
  group.create_dataset({ name: "indptr", data: Int32Array.from(indptr) });
}

/** Write a dataframe group with an index and columns. */
function writeDataframe(
  parent: H5Group,
  name: string,
  index: readonly string[],
  columns: readonly ObsColumn[],
): void {
  const group = parent.create_group(name);
  group.create_attribute("_index", "_index");
  if (columns.length > 0) {
    group.create_attribute(
      "column-order",
      columns.map((c) => c.name),
    );
  } else {
    group.create_attribute("column-order", new Float64Array(0), [0]);
  }
  encoding(group, "dataframe", "0.2.0");
  encoding(group.create_dataset({ name: "_index", data: index.slice() }), "string-array", "0.2.0");
  for (const column of columns) {
    const values = column.values.slice() as string[] | number[];
    if (column.categorical) {
      const strings = Array.from(values, String);
      const categories = [...new Set(strings)].sort();
      const cat = group.create_group(column.name);
      encoding(cat, "categorical", "0.2.0");
      cat.create_attribute("ordered", Int8Array.of(0), []);
      encoding(
        cat.create_dataset({ name: "categories", data: categories }),
        "string-array",
        "0.2.0",
      );
      encoding(
        cat.create_dataset({
          name: "codes",
          data: Int8Array.from(strings, (v) => categories.indexOf(v)),
        }),
        "array",
        "0.2.0",
      );
    } else if (typeof values[0] === "number") {
      encoding(
        group.create_dataset({ name: column.name, data: Float64Array.from(values as number[]) }),
        "array",
        "0.2.0",
      );
    } else {
      encoding(
        group.create_dataset({ name: column.name, data: values as string[] }),
        "string-array",
        "0.2.0",
      );
    }
  }
}

/** Write `content` as an `.h5ad` file (overwriting `file`). */
export async function writeH5ad(file: string, content: H5adContent): Promise<void> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, "w");
  try {
    encoding(f, "anndata", "0.1.0");
    const n = content.samples.length;
    const p = content.genes.length;
    const type = content.countType ?? "float32";
    writeMatrix(f, "X", content.matrix, n, p, content.format ?? "dense", type);
    writeDataframe(f, "obs", content.samples, content.obs);
    writeDataframe(f, "var", content.genes, []);
    const layers = f.create_group("layers");
    encoding(layers, "dict", "0.1.0");
    for (const [name, layer] of Object.entries(content.layers ?? {})) {
      writeMatrix(layers, name, layer.matrix, n, p, layer.format ?? "dense", type);
    }
    for (const name of ["obsm", "obsp", "varm", "varp", "uns"]) {
      encoding(f.create_group(name), "dict", "0.1.0");
    }
  } finally {
    f.close();
  }
}

/** Which samples of a dataset to write, and how. */
export interface FromDatasetOptions {
  /** Keep only this center's samples, and drop the `center` column (a per-center file). */
  readonly center?: string;
  /** Gene order to write (a permutation of `dataset.genes`; default the dataset's). */
  readonly genes?: readonly string[];
  /** Metadata columns to store as categoricals. */
  readonly categorical?: readonly string[];
  /** Storage of `X` (default dense). */
  readonly format?: MatrixFormat;
  /** Numeric type of `X` (default float32). */
  readonly countType?: CountType;
}

/** The content of an `.h5ad` file holding (part of) a dataset. */
export function h5adFromDataset(dataset: Dataset, options: FromDatasetOptions = {}): H5adContent {
  const n = dataset.samples.length;
  const picked = dataset.samples.flatMap((_, i) =>
    options.center === undefined || dataset.centerOfSample[i] === options.center ? [i] : [],
  );
  const genes = options.genes ?? dataset.genes;
  const row = new Map(dataset.genes.map((g, k) => [g, k]));
  const matrix = new Float64Array(picked.length * genes.length);
  picked.forEach((i, r) => {
    genes.forEach((gene, c) => {
      matrix[r * genes.length + c] = dataset.counts[(row.get(gene) as number) * n + i];
    });
  });
  const obs = dataset.metadata.columns
    .filter((c) => options.center === undefined || c !== "center")
    .map((name) => {
      const all = dataset.metadata.values.get(name) as string[];
      return {
        name,
        values: picked.map((i) => all[i]),
        categorical: options.categorical?.includes(name) ?? false,
      };
    });
  return {
    samples: picked.map((i) => dataset.samples[i]),
    genes,
    matrix,
    obs,
    format: options.format,
    countType: options.countType,
  };
}
