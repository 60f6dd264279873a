/**
 * Speed of the secure-sum core (not a test): one field of 10^6 values, 3 centers, pair secrets
 * fixed. Run with `npx vite-node test/federation/secureAggregation/speed.ts`.
 */
import { createHash } from "node:crypto";
import {
  applyMask,
  decodeFixed,
  encodeFixed,
  maskShare,
  type PairSecrets,
  ringAdd,
  scaleExponentFor,
  unmaskSum,
} from "../../../src/federation/secureAggregation/index.js";
import { rng } from "../../helpers/random.js";

const LENGTH = 1_000_000;
const N = 3;
const centers = Array.from({ length: N }, (_, i) => `c${i}`);
const secret = (i: number, j: number) =>
  new Uint8Array(
    createHash("sha256")
      .update(`${Math.min(i, j)}/${Math.max(i, j)}`)
      .digest(),
  );
const pairs: PairSecrets[] = centers.map((_, self) => ({
  runId: "bench",
  centers,
  selfIndex: self,
  secrets: centers.map((_, j) => (j === self ? null : secret(self, j))),
  own: secret(self, self),
}));
const fields = [{ name: "x", scaleExponent: scaleExponentFor(1e12, 32) }];
const tag = { runId: "bench", phase: "irls", step: "s", round: 0 };
const u = rng(1);
const data = centers.map(() =>
  Float64Array.from({ length: LENGTH }, () => (u() - 0.5) * 10 ** (12 * u())),
);

function time<T>(label: string, f: () => T, repeats = 5): T {
  let best = Number.POSITIVE_INFINITY;
  let out: T | undefined;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    out = f();
    best = Math.min(best, performance.now() - t0);
  }
  console.log(`${label}: ${best.toFixed(1)} ms (best of ${repeats})`);
  return out as T;
}

const e = fields[0].scaleExponent;
time("allocate a 16 MB ring vector (for scale)", () => new Uint32Array(4 * LENGTH).fill(1));
const ring = time("encode 1e6 (new output)", () => encodeFixed(data[0], e, N, "x"));
const into = new Uint32Array(ring.length);
time("encode 1e6 (into an existing vector)", () => encodeFixed(data[0], e, N, "x", into));
const decoded = new Float64Array(LENGTH);
time("decode 1e6 (into an existing vector)", () => decodeFixed(ring, e, decoded));
time("ring add 1e6", () => ringAdd(into, ring));
time("one pair's mask (AES-256-CTR, 16 MB) 1e6", () =>
  applyMask(
    Uint32Array.from(ring),
    pairs[0].secrets[1] as Uint8Array,
    {
      ...tag,
      request: "",
      field: "x",
      length: LENGTH,
    },
    1,
  ),
);
const shares = time("maskShare ×3 centers (encode + 2 masks each)", () =>
  pairs.map((p, c) => maskShare(p, tag, fields, { x: data[c] })),
);
time("unmaskSum of 3 shares (2 adds + decode)", () => unmaskSum(fields, shares));
time("total: 3 × maskShare + unmaskSum", () =>
  unmaskSum(
    fields,
    pairs.map((p, c) => maskShare(p, tag, fields, { x: data[c] })),
  ),
);
