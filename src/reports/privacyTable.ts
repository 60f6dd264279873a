/**
 * The step-by-step table of docs/privacy.md, generated from the step registry and the plan's
 * request policy so that the documentation cannot drift from the code: for every step, what a
 * center sends, how the aggregator combines each field, whether the step builds center state,
 * and how often a center under a plan answers it. `npm run docs` rewrites the table in place; a
 * test fails when the file and the code disagree.
 */
import { type Reduction, STEP_NAMES, STEPS } from "../federation/registry.js";
import { REQUESTS_PER_RUN } from "../federation/requestPolicy.js";

/** Markers around the generated table in docs/privacy.md. */
export const TABLE_BEGIN = "<!-- generated from src/federation/registry.ts: npm run docs -->";
export const TABLE_END = "<!-- end of generated table -->";

/** What a reduction discloses to an aggregator that records the replies (one line). */
const REVEALS: Readonly<Record<Reduction, string>> = {
  sum: "only the sum over centers (masked by secure aggregation; in clear with --no-secure-aggregation: each center's own sum)",
  or: "only the OR over centers (secure aggregation; in clear: each center's bits)",
  max: "each center's maximum: one sample's value",
  argmax: "each center's maximum and who holds it: one sample's value",
  union: "each center's own set",
  concat: "each center's own values, per sample, in clear",
  perCenter: "one center's value",
  same: "nothing beyond the request",
  unused: "nothing used",
};

/** The markdown table (with its markers). */
export function privacyTable(): string {
  const rows = STEP_NAMES.map((name) => {
    const step = STEPS[name];
    const fields = Object.entries(step.reductions as Record<string, Reduction>)
      .map(([field, reduction]) => `\`${field}\`: ${reduction} — ${REVEALS[reduction]}`)
      .join("<br>");
    const perRun = REQUESTS_PER_RUN[name];
    const times =
      perRun === null
        ? "every round"
        : perRun === "per factor"
          ? "once per factor"
          : perRun === 1
            ? "once"
            : `${perRun} times`;
    return `| \`${name}\` | ${step.sends} | ${fields} | ${step.buildsState ? "yes" : "no"} | ${times} |`;
  });
  return [
    TABLE_BEGIN,
    "",
    "| step | a center sends | each field: how the aggregator combines it — what that reveals | builds center state | answered under a plan |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    "",
    TABLE_END,
  ].join("\n");
}

/** `text` with its generated table replaced by the current one. */
export function withPrivacyTable(text: string): string {
  const begin = text.indexOf(TABLE_BEGIN);
  const end = text.indexOf(TABLE_END);
  if (begin < 0 || end < begin)
    throw new Error("docs/privacy.md: the generated table's markers are missing");
  return text.slice(0, begin) + privacyTable() + text.slice(end + TABLE_END.length);
}
