/**
 * One digest of a request's content, for the two places that must recognise "the same request":
 * a center's plan policy (a tag already answered must carry the same request) and secure
 * aggregation's mask labels (the masks of different requests never cancel).
 */
import { createHash } from "node:crypto";
import type { FieldKind } from "./records.js";
import { STEPS } from "./registry.js";
import type { RequestTag, StepInput, StepName } from "./steps.js";

/**
 * Feed one record field into `hash`: its kind, its length and its content (the raw bytes of an
 * array, the JSON of a scalar), so that no field can run into the next.
 */
export function hashField(
  hash: ReturnType<typeof createHash>,
  kind: FieldKind,
  value: unknown,
): void {
  if (ArrayBuffer.isView(value)) {
    const v = value as ArrayBufferView;
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    hash.update(`${kind}:${bytes.length}:`);
    hash.update(bytes);
    return;
  }
  const text = JSON.stringify(
    typeof value === "number" && !Number.isFinite(value) ? String(value) : value,
  );
  hash.update(`${kind}:${Buffer.byteLength(text)}:${text}`);
}

/**
 * SHA-256 (hex) of a request as the center received it: the plan hash in its tag, the step,
 * and every request field as declared (name, kind, and content: raw bytes of arrays, JSON of
 * scalars). Kept per request object: a request must not change once it has been digested
 * (every round's requests are new objects, and no step writes into its input; a transport that
 * decodes or clones makes new ones too).
 * @param options - `perCenterFields`: include the fields the step declares per center
 *   (`perCenterRequest`, e.g. a center's own size factors): true for a center's own record of
 *   what it answered, false where every center must compute the same digest (mask labels)
 */
export function requestDigest<K extends StepName>(
  tag: RequestTag,
  step: K,
  input: StepInput<K>,
  options: { readonly perCenterFields: boolean },
): string {
  const key = `${options.perCenterFields}|${step}|${tag.plan ?? ""}`;
  let known = digests.get(input);
  const digest = known?.get(key);
  if (digest !== undefined) return digest;
  if (known === undefined) {
    known = new Map();
    digests.set(input, known);
  }
  const computed = digestOf(tag, step, input, options);
  known.set(key, computed);
  return computed;
}

/**
 * The digests already computed, per request object: a simulation's centers receive the very
 * same object, each hashing it for its policy and its mask labels (bodymap: 0.18 s of a run's
 * thread, two thirds of it the same digests again). Requests are never changed once made.
 */
const digests = new WeakMap<object, Map<string, string>>();

/** {@link requestDigest}, computed. */
function digestOf<K extends StepName>(
  tag: RequestTag,
  step: K,
  input: StepInput<K>,
  options: { readonly perCenterFields: boolean },
): string {
  const spec = STEPS[step];
  const skip = new Set<string>(
    options.perCenterFields ? [] : ((spec.perCenterRequest ?? []) as readonly string[]),
  );
  const hash = createHash("sha256");
  hash.update(JSON.stringify(["fedseq request digest v1", tag.plan ?? "", step]));
  const values = input as unknown as Record<string, unknown>;
  for (const [name, kind] of Object.entries(spec.request.fields as Record<string, FieldKind>)) {
    if (skip.has(name)) continue;
    hash.update(`|${name}|`);
    hashField(hash, kind, values[name]);
  }
  return hash.digest("hex");
}
