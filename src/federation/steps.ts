/**
 * The whitelist of computations a center runs on its data, as types: each named step maps a
 * typed input (what the aggregator sends) to a typed output (what the center shares back). The
 * steps are declared once, in the registry (registry.ts); a center runs nothing else, and no
 * output carries a per-sample value.
 */
export {
  STATE_STEPS,
  STEP_NAMES,
  type StepInput,
  type StepName,
  type StepOutput,
  type StepTypes,
} from "./registry.js";

/** Identifies one request of a run: repeated or stale requests are recognised by it. */
export interface RequestTag {
  /** Run id, fixed for a whole job (and kept across an aggregator resume). */
  readonly runId: string;
  /** Phase of the job ("setup", "init", "irls", "pqn"). */
  readonly phase: string;
  /** Round within the phase. */
  readonly round: number;
  /**
   * SHA-256 (hex) of the analysis plan the request is made under (plan.ts); absent for a fit
   * without a plan. A center holding a plan answers only requests that carry its hash.
   */
  readonly plan?: string;
}
