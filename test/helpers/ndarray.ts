/**
 * Decoding of the fixtures' array encoding `{dtype, shape, data}` (row-major nested lists,
 * NaN written null, infinities as strings) into flat typed arrays.
 */

/** A fixture array as stored in JSON. */
export interface JsonArray {
  dtype: "float64" | "int64" | "bool" | "str";
  shape: number[];
  data: unknown;
}

/** True when v is a fixture array. */
export function isJsonArray(v: unknown): v is JsonArray {
  return typeof v === "object" && v !== null && "dtype" in v && "shape" in v && "data" in v;
}

function flatten(data: unknown, out: unknown[]): void {
  if (Array.isArray(data)) for (const d of data) flatten(d, out);
  else out.push(data);
}

function toNumber(v: unknown): number {
  if (v === null) return Number.NaN;
  if (v === "Infinity") return Number.POSITIVE_INFINITY;
  if (v === "-Infinity") return Number.NEGATIVE_INFINITY;
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  throw new Error(`not a number: ${JSON.stringify(v)}`);
}

/** Flat Float64Array of a numeric fixture array (or of a JSON scalar). */
export function f64(a: JsonArray | number): Float64Array {
  if (typeof a === "number") return Float64Array.of(a);
  const flat: unknown[] = [];
  flatten(a.data, flat);
  return Float64Array.from(flat, toNumber);
}

/** Flat Uint8Array of a boolean fixture array. */
export function bool(a: JsonArray): Uint8Array {
  const flat: unknown[] = [];
  flatten(a.data, flat);
  return Uint8Array.from(flat, (v) => (v ? 1 : 0));
}

/** Flat string list of a str fixture array. */
export function str(a: JsonArray): string[] {
  const flat: unknown[] = [];
  flatten(a.data, flat);
  return flat as string[];
}

/** Number of elements of a shape. */
export function size(shape: readonly number[]): number {
  return shape.reduce((x, y) => x * y, 1);
}

/** Transpose a row-major rows×cols matrix. */
export function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}
