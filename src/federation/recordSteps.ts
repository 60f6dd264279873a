/**
 * The steps whose input and output are flat records, with their declarations: what the
 * aggregator sends, what a center answers, and the lengths a reply must have.
 */
import type {
  LogSumsRequest,
  LogSumsShare,
  SizeFactorsRequest,
  SizeFactorsShare,
} from "../algorithms/sizeFactors/state.js";
import type { InformationRequest, InformationShare } from "../algorithms/wald/state.js";
import { type FlatRecord, type RecordSchema, recordSchema } from "./records.js";

/** A record step's declaration. */
export interface RecordStepSpec<In extends FlatRecord, Out extends FlatRecord> {
  readonly input: RecordSchema<In>;
  readonly output: RecordSchema<Out>;
  /** Lengths the reply's array fields must have, given the request. */
  readonly replyLengths: (input: In) => Partial<Record<Exclude<keyof Out, "kind">, number>>;
}

function spec<In extends FlatRecord, Out extends FlatRecord>(
  s: RecordStepSpec<In, Out>,
): RecordStepSpec<In, Out> {
  return s;
}

/** Input and output types of the record steps. */
export interface RecordStepTypes {
  logSums: { input: LogSumsRequest; output: LogSumsShare };
  sizeFactors: { input: SizeFactorsRequest; output: SizeFactorsShare };
  information: { input: InformationRequest; output: InformationShare };
}

/** Name of a record step. */
export type RecordStepName = keyof RecordStepTypes;

/** Every record step's declaration. */
export const RECORD_STEPS: {
  readonly [K in RecordStepName]: RecordStepSpec<
    RecordStepTypes[K]["input"],
    RecordStepTypes[K]["output"]
  >;
} = {
  logSums: spec({
    input: recordSchema<LogSumsRequest>("log-sums-request", { genes: "texts" }),
    output: recordSchema<LogSumsShare>("log-sums-share", {
      logSums: "finite",
      hasZero: "mask",
      samples: "number",
    }),
    replyLengths: (input) => ({ logSums: input.genes.length, hasZero: input.genes.length }),
  }),
  sizeFactors: spec({
    input: recordSchema<SizeFactorsRequest>("size-factors-request", { logGeoMeans: "f64" }),
    output: recordSchema<SizeFactorsShare>("size-factors-share", { sizeFactors: "finite" }),
    replyLengths: () => ({}),
  }),
  information: spec({
    input: recordSchema<InformationRequest>("information-request", {
      beta: "finite",
      coefficients: "number",
      refit: "boolean",
    }),
    output: recordSchema<InformationShare>("information-share", { xtwx: "finite" }),
    replyLengths: (input) => {
      const p = input.coefficients;
      return { xtwx: ((input.beta.length / p) * (p * (p + 1))) / 2 };
    },
  }),
};

/** True for the names of record steps. */
export function isRecordStep(step: string): step is RecordStepName {
  return Object.hasOwn(RECORD_STEPS, step);
}
