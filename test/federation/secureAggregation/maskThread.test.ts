/**
 * The mask thread: a reply whose split fields were masked on it is the reply masked on the
 * calling thread, byte for byte (masked vectors, authenticators); a value the ring refuses is
 * refused with the same error; jobs are taken in any order; jobs staged in its shared memory
 * (or cloned when it is full) give the same bytes in memory of the caller's own; a closed
 * thread answers no more.
 */
import { createHash } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { requestDigest } from "../../../src/federation/requestDigest.js";
import { FixedPointError } from "../../../src/federation/secureAggregation/errors.js";
import type { PairSecrets } from "../../../src/federation/secureAggregation/keyAgreement.js";
import {
  type ProtectedReply,
  SecureCenter,
} from "../../../src/federation/secureAggregation/layer.js";
import { MaskThread } from "../../../src/federation/secureAggregation/maskThread.js";
import { maskRing, ringMaskJob } from "../../../src/federation/secureAggregation/secureSum.js";
import { simulationPki } from "../../../src/federation/secureAggregation/simulationCertificates.js";

const names = ["a", "b", "c"];
const pki = simulationPki(names);

/** Three centers agreed on run "r" (new keys each time). */
function agreedCenters(): SecureCenter[] {
  const centers = names.map((n) => new SecureCenter(n, pki.centers[n], pki.trust));
  const announcements = centers.map((c) => c.announce("r", names));
  for (const c of centers) c.agree("r", announcements);
  return centers;
}

const thread = new MaskThread();
afterAll(() => thread.close());

const input = {
  kind: "information-request",
  beta: new Float64Array(3 * 6000),
  coefficients: 3,
  refit: false,
} as const;

/** An information share of 6,000 genes × 6 entries: values over many binary orders, signs mixed. */
function share(seed: number) {
  const xtwx = new Float64Array(6000 * 6);
  let s = seed;
  for (let i = 0; i < xtwx.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    xtwx[i] = (s / 2 ** 32 - 0.3) * 2 ** ((s % 97) - 60);
  }
  return { kind: "information-share", xtwx } as const;
}

function bytes(reply: ProtectedReply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(reply.masked)) out[name] = Buffer.from(v).toString("hex");
  for (const [peer, v] of Object.entries(reply.authenticators ?? {}))
    out[`auth:${peer}`] = Buffer.from(v).toString("hex");
  return out;
}

/**
 * `count` rounds from `first` of information replies (center k % 3 answers round k), masked on
 * the calling thread: their bytes, and what masking them again takes.
 */
function repliesMaskedHere(first: number, count: number) {
  const centers = agreedCenters();
  const tag = { runId: "r", phase: "wald", round: first };
  const request = requestDigest(tag, "information", input, { perCenterFields: false });
  const rounds = Array.from({ length: count }, (_, k) => ({ ...tag, round: first + k }));
  const here = rounds.map((t, k) =>
    bytes(centers[k % 3].protect(t, "information", input, share(k) as never, request)),
  );
  return { centers, request, rounds, here };
}

describe("mask thread", () => {
  it("gives every center the reply it masks itself, byte for byte, jobs taken in any order", () => {
    const tag = { runId: "r", phase: "wald", round: 0 };
    const request = requestDigest(tag, "information", input, { perCenterFields: false });
    const centers = agreedCenters();
    const here = centers.map((c, i) =>
      bytes(c.protect(tag, "information", input, share(i) as never, request)),
    );
    // The same centers again (a center masks one reply per request, and this is the same one).
    const pending = centers.map((c, i) =>
      c.beginProtect(tag, "information", share(i) as never, request, thread),
    );
    const there = [2, 0, 1].map((i) => [i, bytes(pending[i].finish())] as const);
    for (const [i, reply] of there) {
      expect(Object.keys(reply).sort()).toEqual(Object.keys(here[i]).sort());
      expect(reply).toEqual(here[i]);
    }
    // The masks cancel in the sum only: each masked vector differs from the others.
    expect(here[0].xtwx).not.toEqual(here[1].xtwx);
  });

  it("refuses a value the ring cannot hold with the error the calling thread gives", () => {
    const tag = { runId: "r", phase: "wald", round: 1 };
    const bad = share(7);
    bad.xtwx[4321] = Number.NaN;
    const request = requestDigest(tag, "information", input, { perCenterFields: false });
    const [a] = agreedCenters();
    let inline: unknown;
    try {
      a.protect(tag, "information", input, bad as never, request);
    } catch (error) {
      inline = error;
    }
    expect(inline).toBeInstanceOf(FixedPointError);
    const [b] = agreedCenters();
    const pending = b.beginProtect(tag, "information", bad as never, request, thread);
    let threaded: unknown;
    try {
      pending.finish();
    } catch (error) {
      threaded = error;
    }
    expect(threaded).toBeInstanceOf(FixedPointError);
    expect((threaded as FixedPointError).message).toBe((inline as FixedPointError).message);
    expect((threaded as FixedPointError).message).toMatch(/secure sum field "xtwx"\[4321\]/);
    expect((threaded as FixedPointError).index).toBe(4321);
  });

  it("runs the jobs the thread has not reached itself, the last first, and reuses claim slots", async () => {
    // Four claim slots for 40 jobs: a slot's job is answered before the slot goes to another.
    const own = new MaskThread({ slots: 4 });
    const { centers, request, rounds, here } = repliesMaskedHere(3, 40);
    const pending = rounds.map((t, k) =>
      centers[k % 3].beginProtect(t, "information", share(k) as never, request, own),
    );
    // The last first: the thread, still starting or busy with the first, has not claimed it.
    const last = bytes(pending[39].finish());
    expect(own.ran.here).toBeGreaterThan(0);
    expect(last).toEqual(here[39]);
    pending.forEach((p, k) => {
      expect(bytes(p.finish())).toEqual(here[k]);
    });
    expect(own.ran.here + own.ran.there).toBe(40);
    await own.close();
  });

  it("stages jobs in shared memory while there is room, clones the others, reuses answered regions: the same bytes, in the caller's own memory", async () => {
    // 50,000 doubles of staging: one reply's 36,000-double field at a time.
    const own = new MaskThread({ stagingDoubles: 50_000, minElements: 0 });
    const { centers, request, rounds, here } = repliesMaskedHere(60, 12);
    // In waves of three: the area fills, the wave's answers free it for the next.
    for (let wave = 0; wave < 4; wave++) {
      const pending = [0, 1, 2].map((j) => {
        const k = 3 * wave + j;
        return centers[k % 3].beginProtect(
          rounds[k],
          "information",
          share(k) as never,
          request,
          own,
        );
      });
      pending.forEach((p, j) => {
        const reply = p.finish();
        for (const v of Object.values(reply.masked))
          expect(v.buffer).not.toBeInstanceOf(SharedArrayBuffer);
        expect(bytes(reply)).toEqual(here[3 * wave + j]);
      });
    }
    // A ring masked in the staging area comes back in memory of its own, the caller's untouched.
    const secret = new Uint8Array(createHash("sha256").update("pair").digest());
    const pairs: PairSecrets = {
      runId: "r",
      centers: ["a", "b"],
      selfIndex: 0,
      secrets: [null, secret],
      own: new Uint8Array(32),
    };
    const ringTag = { runId: "r", phase: "cooks", step: "counts", round: 0 };
    const ring = Uint32Array.from({ length: 4 * 9000 }, (_, i) => i % 7);
    const expected = maskRing(pairs, ringTag, "counts", ring.slice());
    const taken = own.submit(ringMaskJob(pairs, ringTag, "counts", ring))();
    expect(taken.ring.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(Buffer.from(taken.ring.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    expect(ring.every((x, i) => x === i % 7)).toBe(true);
    expect(own.ran.here + own.ran.there).toBe(13);
    // Each wave staged one field and cloned the two that found no room; the ring was staged.
    expect(own.sent).toEqual({ staged: 5, cloned: 8 });
    await own.close();
  });

  it("answers no more once closed", async () => {
    const own = new MaskThread();
    const tag = { runId: "r", phase: "wald", round: 2 };
    const request = requestDigest(tag, "information", input, { perCenterFields: false });
    const [a] = agreedCenters();
    const pending = a.beginProtect(tag, "information", share(1) as never, request, own);
    await own.close();
    expect(() => pending.finish()).toThrow(/closed before its result was taken/);
  });
});
