/**
 * What a center keeps between the steps of one run (never sent anywhere), and the record steps
 * that read and extend it: size factors, and the dispersion and Cook's steps that build on them.
 */
import type { FitCenter } from "../algorithms/center.js";
import { countsOfRows, geneRows } from "../algorithms/setup/local.js";
import { localLogSums, localSizeFactors } from "../algorithms/sizeFactors/local.js";
import { informationLocalStep } from "../algorithms/wald/local.js";
import { InputError } from "../io/errors.js";
import type { CenterData } from "./centerData.js";
import type { RecordStepName, RecordStepTypes } from "./recordSteps.js";

/** A center's private state for one run. */
export interface CenterRunState {
  readonly runId: string;
  /** Rows (in the center's data) of the run's genes, in the federation's gene order. */
  rows?: Int32Array;
  /** Counts of those genes, gene-major. */
  counts?: Float64Array;
  /** The center's own size factors, once computed. */
  sizeFactors?: Float64Array;
}

type In<K extends RecordStepName> = RecordStepTypes[K]["input"];
type Out<K extends RecordStepName> = RecordStepTypes[K]["output"];

function need<T>(value: T | undefined, center: string, step: string, what: string): T {
  if (value === undefined)
    throw new Error(`center ${center}: step ${step} before the step that computes ${what}`);
  return value;
}

/**
 * Run a record step at a center on its data and run state.
 * @param preparedFit - the center's prepared fit (throws when the run has not prepared one)
 */
export function runRecordStep<K extends RecordStepName>(
  data: CenterData,
  state: CenterRunState,
  step: K,
  input: In<K>,
  preparedFit: () => FitCenter,
): Out<K> {
  const n = data.samples.length;
  switch (step) {
    case "logSums": {
      const request = input as In<"logSums">;
      state.rows = geneRows(data, request.genes);
      state.counts = countsOfRows(data, state.rows);
      return localLogSums(state.counts, n) as Out<K>;
    }
    case "sizeFactors": {
      const request = input as In<"sizeFactors">;
      const counts = need(state.counts, data.name, step, "log sums");
      if (request.logGeoMeans.length * n !== counts.length) {
        throw new Error(
          `center ${data.name}: ${request.logGeoMeans.length} log geometric means for ${counts.length / n} genes`,
        );
      }
      const share = localSizeFactors(counts, n, request.logGeoMeans);
      share.sizeFactors.forEach((sf, i) => {
        if (!(sf > 0 && Number.isFinite(sf))) {
          throw new InputError(
            `center ${data.name}: sample ${data.samples[i]} has no positive count among the genes of the size factors' reference`,
          );
        }
      });
      state.sizeFactors = share.sizeFactors;
      return share as Out<K>;
    }
    case "information": {
      const request = input as In<"information">;
      const center = preparedFit();
      const { p, genes } = center.main.data;
      if (request.coefficients !== p || request.beta.length !== genes * p) {
        throw new Error(
          `center ${data.name}: information request for ${request.beta.length} coefficients, the fit has ${genes} genes × ${p}`,
        );
      }
      return informationLocalStep(center, request) as Out<K>;
    }
    default:
      throw new Error(`center ${data.name}: unknown step ${String(step)}`);
  }
}
