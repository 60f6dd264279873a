/**
 * Flat records: the shape of every step's request and reply (a `kind` plus named per-gene
 * arrays, masks and scalars). Each step declares its records' fields once (registry.ts), and
 * every transport carries them without step-specific code: the gRPC codec encodes a record field
 * by field (float64 arrays as raw bytes, masks as bit sets), and what is received is checked
 * against the same declaration ({@link checkRecord}).
 */

import { isPooledZero } from "../algorithms/shares.js";

/**
 * The kind of one field:
 * - `f64`: a Float64Array (NaN and ±∞ allowed, e.g. "excluded" markers);
 * - `finite`: a Float64Array whose every value must be finite;
 * - `mask`: a per-gene 0/1 mask (sent as a bit set);
 * - `u8`: small whole numbers 0–255 (e.g. per-cell codes), sent as bytes;
 * - `counts`: a Float64Array of whole numbers 0 … 2³²−1 (e.g. values per bucket), sent in
 *   1, 2 or 4 bytes each (the narrowest that holds them all) instead of eight;
 * - `number`, `boolean`, `text`: a scalar;
 * - `texts`: a list of strings (e.g. gene ids).
 */
export type FieldKind =
  | "f64"
  | "finite"
  | "mask"
  | "u8"
  | "counts"
  | "number"
  | "boolean"
  | "text"
  | "texts";

/** The TypeScript type a field kind holds. */
export type FieldValue<K extends FieldKind> = K extends "f64" | "finite" | "counts"
  ? Float64Array
  : K extends "mask" | "u8"
    ? Uint8Array
    : K extends "number"
      ? number
      : K extends "boolean"
        ? boolean
        : K extends "text"
          ? string
          : readonly string[];

/** The field kinds that can hold a value of type T. */
type KindsFor<T> = T extends Float64Array
  ? "f64" | "finite" | "counts"
  : T extends Uint8Array
    ? "mask" | "u8"
    : T extends number
      ? "number"
      : T extends boolean
        ? "boolean"
        : T extends string
          ? "text"
          : T extends readonly string[]
            ? "texts"
            : never;

/** A record: a kind and flat fields. */
export interface FlatRecord {
  readonly kind: string;
}

/** The declaration of a record type T: its kind and the kind of each of its other fields. */
export interface RecordSchema<T extends FlatRecord = FlatRecord> {
  readonly kind: T["kind"];
  readonly fields: { readonly [F in Exclude<keyof T, "kind">]-?: KindsFor<T[F]> };
}

/** Declare the schema of record type T (the compiler checks every field's kind against T). */
export function recordSchema<T extends FlatRecord>(
  kind: T["kind"],
  fields: RecordSchema<T>["fields"],
): RecordSchema<T> {
  return { kind, fields };
}

/** A value received for a record that does not fit its schema. */
export class RecordShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecordShapeError";
  }
}

// A pooled reply's zero vectors (every center's but the first's, under secure aggregation) are
// made by the aggregator's runtime, never received, and shared across centers: all zeros, valid
// for every numeric kind. Scanning them was two of every three scans of a 3-center federation's
// summed fields (bodymap: 0.5 s of a run in the counts' check alone).

// One small loop per element type: inside checkRecord's switch, where `v` is any of the typed
// arrays, each element access was polymorphic (1.2 s of a bodymap run's profile).

/** The index of the first value that is not finite, or −1. */
function firstNotFinite(v: Float64Array): number {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return i;
  return -1;
}

/** The index of the first entry that is neither 0 nor 1, or −1. */
function firstNotBit(v: Uint8Array): number {
  for (let i = 0; i < v.length; i++) if (v[i] > 1) return i;
  return -1;
}

/** The index of the first value that is not a whole number 0 … 2³²−1, or −1. */
function firstNotCount(v: Float64Array): number {
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!(Number.isInteger(x) && x >= 0 && x <= 0xffffffff)) return i;
  }
  return -1;
}

/**
 * Check a record's fields against its schema (types, and finiteness of `finite` arrays).
 * @throws RecordShapeError naming the first offending field
 */
export function checkRecord<T extends FlatRecord>(
  schema: RecordSchema<T>,
  value: unknown,
  what: string,
): T {
  if (value === null || typeof value !== "object")
    throw new RecordShapeError(`${what}: not a record`);
  const record = value as Record<string, unknown>;
  if (record.kind !== schema.kind)
    throw new RecordShapeError(`${what}: kind ${String(record.kind)}, expected ${schema.kind}`);
  for (const [field, kind] of Object.entries(schema.fields) as [string, FieldKind][]) {
    const v = record[field];
    const where = `${what}.${field}`;
    switch (kind) {
      case "f64":
      case "finite":
        if (!(v instanceof Float64Array))
          throw new RecordShapeError(`${where}: not float64 values`);
        if (kind === "finite" && !isPooledZero(v)) {
          const i = firstNotFinite(v);
          if (i >= 0) throw new RecordShapeError(`${where}: value ${i} is not finite (${v[i]})`);
        }
        break;
      case "mask":
        if (!(v instanceof Uint8Array)) throw new RecordShapeError(`${where}: not a mask`);
        {
          const i = firstNotBit(v);
          if (i >= 0) throw new RecordShapeError(`${where}: entry ${i} is not 0 or 1`);
        }
        break;
      case "u8":
        if (!(v instanceof Uint8Array)) throw new RecordShapeError(`${where}: not bytes`);
        break;
      case "counts":
        if (!(v instanceof Float64Array)) throw new RecordShapeError(`${where}: not counts`);
        if (!isPooledZero(v)) {
          const i = firstNotCount(v);
          if (i >= 0) throw new RecordShapeError(`${where}: value ${i} is not a count (${v[i]})`);
        }
        break;
      case "number":
        if (typeof v !== "number") throw new RecordShapeError(`${where}: not a number`);
        break;
      case "boolean":
        if (typeof v !== "boolean") throw new RecordShapeError(`${where}: not a boolean`);
        break;
      case "text":
        if (typeof v !== "string") throw new RecordShapeError(`${where}: not a string`);
        break;
      case "texts":
        if (!Array.isArray(v) || v.some((s) => typeof s !== "string"))
          throw new RecordShapeError(`${where}: not a list of strings`);
        break;
    }
  }
  return value as T;
}
