/**
 * The k-sample rule (issue [11]): nothing a center sends may be computed from fewer than k
 * samples (the plan's `min_cell`). Every value a center sends is a sum over its samples, and
 * for a design with factors it is, by the design's structure, also a sum over each cell (the
 * samples sharing one level of every factor): X'WX of `~ tissue` holds Σ w over each tissue's
 * samples. So the rule is a rule on cells, checked by each center on its own data before it
 * computes anything:
 *
 * - with secure aggregation and three or more centers, the aggregator sees only sums over every
 *   center, and a center only pooled values: every cell the center holds samples of must hold
 *   at least k samples over the federation (the pooled sizes are the plan's, which every center
 *   approved and each checks its own row of); when the centers verify requests
 *   (verifiedRequests.ts) each learns the pooled sums too, so the other centers' samples of the
 *   cell must number 0 or at least k;
 * - without secure aggregation, or with two centers (each center learns the other's sums as the
 *   total minus its own), every cell the center holds samples of must hold k of its own — and
 *   even then a sum over a cell whose other counts are zero is one sample's, and the Cook's
 *   trimmed means sum over value ranges a center may hold fewer than k values of: so such a
 *   plan is refused unless k = 1 (the centers' consent to disclose).
 *
 * A center that cannot meet the rule refuses before round 1 and names the cell.
 */
import { type CenterData, centerCellKeys } from "../algorithms/centerData.js";
import { InputError, PrivateDataError } from "../core/errors.js";
import { WHOLE_CENTER_CELL } from "../design/factorCells.js";
import { parseFormula } from "../design/formula.js";
import type { AnalysisPlan, CellSizes } from "./plan.js";

export { WHOLE_CENTER_CELL };

/** The factors of the plan's design (its variables with levels), in formula order. */
export function planFactors(plan: Pick<AnalysisPlan, "design" | "levels">): string[] {
  return parseFormula(plan.design).terms.filter((t) => Object.hasOwn(plan.levels, t));
}

/**
 * Each sample's cell: its level of every factor of the plan's design, in formula order
 * (`tissue=heart`, `batch=b1,condition=A`), or {@link WHOLE_CENTER_CELL} without factors.
 */
export function sampleCellKeys(
  plan: Pick<AnalysisPlan, "design" | "levels">,
  data: CenterData,
): string[] {
  return centerCellKeys(data, planFactors(plan));
}

/** How many of the center's samples each of its cells holds (cells it has no sample of: absent). */
export function localCellSizes(
  plan: Pick<AnalysisPlan, "design" | "levels">,
  data: CenterData,
): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const key of sampleCellKeys(plan, data)) sizes[key] = (sizes[key] ?? 0) + 1;
  return Object.fromEntries(Object.entries(sizes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Whether the plan lets the rule count pooled cells (secure aggregation, ≥ 3 centers, sizes known). */
export function pooledCellRule(plan: AnalysisPlan): boolean {
  return plan.secureAggregation && plan.centers.length >= 3 && plan.cellSizes !== null;
}

/**
 * Pooled cells under this many samples are named by a warning when a plan is written or served:
 * solving a run's pooled sums as equations (docs/privacy.md, "Known leaks";
 * test/privacy/pooledIrlsAttack.test.ts: the size factors from the pooled Σ w of the IRLS rounds
 * and dispersion searches, then the counts as a lattice's short vector from the IRLS rounds'
 * XᵀWz) gave back, given the size factors, 96% of the counts of simulated cells of 5 samples,
 * 86% of cells of 8, 53% of 12, 23% of 16 and 6% of 24; the sums alone gave the size factors of
 * cells of 3–5. No size is shown safe and the
 * k-sample rule does not bound it: the warning says where the measured leak is large.
 */
export const EQUATIONS_WARN_BELOW = 25;

/**
 * The cells of a plan whose rule counts pooled cells ({@link pooledCellRule}) that hold fewer
 * than {@link EQUATIONS_WARN_BELOW} samples over the federation, as `cell (n pooled samples)` in
 * the cells' order; empty for other plans (in clear, or with two centers, a plan already needs
 * min_cell 1: each center's own sums are read one by one).
 */
export function cellsOpenToEquations(plan: AnalysisPlan): string[] {
  if (!pooledCellRule(plan)) return [];
  const cellSizes = plan.cellSizes as CellSizes;
  const cells = [
    ...new Set(Object.values(cellSizes).flatMap((sizes) => Object.keys(sizes))),
  ].sort();
  return cells
    .map((cell) => [cell, pooledSize(cellSizes, cell)] as const)
    .filter(([, n]) => n > 0 && n < EQUATIONS_WARN_BELOW)
    .map(([cell, n]) => `${cell} (${n} pooled samples)`);
}

/**
 * The warning line's text (without the program's prefix) for a plan's {@link cellsOpenToEquations}.
 */
export function equationsWarning(plan: AnalysisPlan, cells: readonly string[]): string {
  const who = plan.verifyRequests ? "the aggregator's, and every center's" : "the aggregator's";
  return `warning: ${cells.join(", ")}: under ${EQUATIONS_WARN_BELOW} samples over the federation, whatever k: solved as equations, a run's pooled sums (${who}) give away most counts of such cells given their size factors, which the same sums give for cells of 3–5 (docs/privacy.md, "Known leaks")`;
}

/**
 * The warning a plan without verified requests deserves, or null: its aggregator chooses where
 * the centers' iterative sums are evaluated, which can read single samples' counts.
 */
export function unverifiedWarning(plan: AnalysisPlan): string | null {
  if (plan.verifyRequests) return null;
  return "warning: requests not verified: the aggregator chooses the points where the centers' sums are evaluated, and a red team's requests read single samples' counts (74% of outliers_sim's from one request; docs/privacy.md, \"Without verified requests\"): run this plan only with an aggregator every center trusts with its counts";
}

/** Samples of `cell` over every center of the plan (0 when the plan has no cell sizes). */
function pooledSize(cellSizes: CellSizes, cell: string): number {
  let total = 0;
  for (const sizes of Object.values(cellSizes)) total += sizes[cell] ?? 0;
  return total;
}

function samplesText(n: number): string {
  return `${n} sample${n === 1 ? "" : "s"}`;
}

/**
 * Check a center's data against the plan's cells and its k-sample rule (see the module's
 * comment): the plan's cell sizes for this center, when it lists them, must be the center's own,
 * and every cell the center holds samples of must hold k samples — pooled over the federation
 * when {@link pooledCellRule}, at this center otherwise.
 * @throws InputError naming the center, the cell and the numbers
 */
export function checkCellRule(plan: AnalysisPlan, data: CenterData): void {
  const where = `center ${data.name}`;
  const own = localCellSizes(plan, data);
  if (plan.cellSizes !== null) {
    const planned = plan.cellSizes[data.name] ?? {};
    for (const cell of new Set([...Object.keys(own), ...Object.keys(planned)])) {
      if ((own[cell] ?? 0) !== (planned[cell] ?? 0)) {
        // Its operator reads the center's number; the aggregator (told of the refusal) only that
        // the plan's is not it: the plan's sizes are public, the center's own are its data.
        throw new PrivateDataError(
          `${where}: cell ${cell} holds ${samplesText(own[cell] ?? 0)} here, the analysis plan says ${planned[cell] ?? 0}`,
          `${where}: cell ${cell} does not hold the ${planned[cell] ?? 0} samples the analysis plan says`,
        );
      }
    }
  }
  checkCellSizes(plan, where, own);
}

/**
 * Check the plan's own cell sizes for every center it lists, as each center will check them
 * against its data before round 1 ({@link checkCellRule}): `fedseq plan` refuses a plan that a
 * center would refuse.
 * @throws InputError naming the center, the cell and the numbers
 */
export function checkPlanCells(plan: AnalysisPlan): void {
  if (plan.cellSizes === null) {
    checkCellSizes(plan, `center ${plan.centers[0]}`, {});
    return;
  }
  for (const center of plan.centers)
    checkCellSizes(plan, `center ${center}`, plan.cellSizes[center] ?? {});
}

/** The k-sample rule on one center's cell sizes (`where` names the center in messages). */
function checkCellSizes(plan: AnalysisPlan, where: string, own: Record<string, number>): void {
  const k = plan.minCell;
  const pooled = pooledCellRule(plan);
  for (const [cell, n] of Object.entries(own)) {
    if (n === 0) continue;
    if (pooled) {
      const total = pooledSize(plan.cellSizes as CellSizes, cell);
      if (total < k) {
        throw new InputError(
          `${where}: cell ${cell} holds ${samplesText(total)} over the federation (${n} here), fewer than the plan's min_cell ${k}: sums over it would disclose those samples`,
        );
      }
      const others = total - n;
      if (plan.verifyRequests && others > 0 && others < k) {
        throw new InputError(
          `${where}: cell ${cell} holds ${samplesText(others)} at the other centers (${n} here), fewer than the plan's min_cell ${k}: with verified requests each center learns the pooled sums, and the pooled sums minus this center's own are those samples' (a plan with "verify_requests": false trusts the aggregator to choose the iterative steps' points instead)`,
        );
      }
    } else if (n < k) {
      const why = !plan.secureAggregation
        ? "without secure aggregation each center's own cells count"
        : plan.centers.length < 3
          ? "with two centers each learns the other's sums, so each center's own cells count"
          : "the plan lists no cell sizes, so each center's own cells count";
      const rule = `the plan's min_cell ${k} (${why}): sums over it would disclose those samples`;
      throw new PrivateDataError(
        `${where}: cell ${cell} holds ${samplesText(n)} here, fewer than ${rule}`,
        `${where}: cell ${cell} holds fewer samples here than ${rule}`,
      );
    }
  }
  if (!pooled && k > 1) {
    // Own cells of k samples are not enough when each center's sums are seen one by one: a sum
    // over a cell whose other counts are zero is one sample's value, and the Cook's trimmed
    // means sum over value ranges, which may hold fewer than k of one center's samples
    // (measured: a scan of outliers_sim's transcript in clear rebuilds 36% of its counts).
    throw new InputError(
      `${where}: the plan's min_cell ${k} can only be kept under secure aggregation over three or more centers with the plan's cell sizes (${pooledProblem(plan)}); a plan without them needs min_cell 1, the centers' consent that their sums disclose single samples`,
    );
  }
}

function pooledProblem(plan: AnalysisPlan): string {
  if (!plan.secureAggregation) return "this plan is in clear";
  if (plan.centers.length < 3) return `this plan has ${plan.centers.length} centers`;
  return "this plan lists no cell sizes";
}
