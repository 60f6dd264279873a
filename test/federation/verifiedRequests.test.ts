/**
 * Verified requests (src/federation/verifiedRequests.ts): each center replays the plan and
 * answers only the requests its replay makes. A malicious aggregator that chooses its own
 * evaluation points, makes up the sums that would steer the replay to them, or withholds the
 * replies, is refused; an honest run gives the same numbers as one without verification.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CenterData } from "../../src/federation/centerData.js";
import { CenterSession } from "../../src/federation/centerSession.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import { type AnalysisPlan, planHash } from "../../src/federation/plan.js";
import { requestDigest } from "../../src/federation/requestDigest.js";
import {
  agreeKeys,
  type RoundEvidence,
  relayedTo,
  SecureCenter,
} from "../../src/federation/secureAggregation/layer.js";
import { simulationPki } from "../../src/federation/secureAggregation/simulationCertificates.js";
import {
  type RequestTag,
  STATE_STEPS,
  type StepInput,
  type StepName,
  type StepOutput,
} from "../../src/federation/steps.js";
import { JsonLinesLog, recordingTransport } from "../../src/federation/transcript.js";
import type { Transport } from "../../src/federation/transport.js";
import { runJobFromPlan } from "../../src/pipeline/analysisPlan.js";
import {
  madePca,
  planPipeline,
  type RunOutcome,
  runOverFederation,
} from "../../src/pipeline/run.js";
import { useTempFolder } from "../helpers/tempFiles.js";
import { verifiedOutliersSim } from "../helpers/verifiedPlan.js";

/**
 * Genes of the runs that a center refuses, or that only check where a step travels: enough for
 * every step of the run and the PCA's 500 genes.
 */
const FEW_GENES = 600;

const temp = useTempFolder("fedseq-verified-");

/** A federation of centers that each replay the plan (`verify: false`: none does). */
function federation(data: readonly CenterData[], plan: AnalysisPlan, verify = true) {
  const sessions = data.map(
    (d) => new CenterSession(d, { plan, replay: verify ? planPipeline(plan) : null }),
  );
  return { sessions, transport: new InProcessTransport(sessions, { secureAggregation: true }) };
}

/** An aggregator that rewrites the requests of one step from its `from`-th round on. */
function tampering(
  inner: Transport,
  step: StepName,
  from: number,
  rewrite: (input: never) => unknown,
): Transport {
  return {
    centers: inner.centers,
    secure: inner.secure,
    request<K extends StepName>(
      tag: RequestTag,
      s: K,
      inputs: readonly StepInput<K>[],
    ): Promise<StepOutput<K>[]> {
      const sent =
        s === step && tag.round >= from
          ? inputs.map((i) => rewrite(i as never) as StepInput<K>)
          : inputs;
      return inner.request(tag, s, sent);
    },
    close: (reason) => inner.close(reason),
  };
}

/**
 * An aggregator that asks every state-building request twice in a row (as after a lost reply):
 * the second time the centers recompute it on the state the first left.
 */
function stuttering(inner: Transport): Transport {
  return {
    centers: inner.centers,
    secure: inner.secure,
    relaysReplies: inner.relaysReplies,
    async request<K extends StepName>(
      tag: RequestTag,
      step: K,
      inputs: readonly StepInput<K>[],
    ): Promise<StepOutput<K>[]> {
      if (STATE_STEPS.has(step)) await inner.request(tag, step, inputs);
      return inner.request(tag, step, inputs);
    },
    close: (reason) => inner.close(reason),
  };
}

/** Make the transport relay `forge(evidence)` instead of the replies it received. */
function forgingEvidence(
  transport: InProcessTransport,
  forge: (evidence: RoundEvidence) => RoundEvidence | null,
): void {
  const secure = transport.secure;
  if (secure === null) throw new Error("needs secure aggregation");
  const honest = secure.evidence.bind(secure);
  secure.evidence = (runId: string) => {
    const evidence = honest(runId);
    return evidence === null ? null : forge(evidence);
  };
}

/** Secure-aggregation centers that agreed keys for `runId` among `names`. */
async function agreed(names: readonly string[], runId: string): Promise<SecureCenter[]> {
  const pki = simulationPki(names);
  const secure = names.map((n) => new SecureCenter(n, pki.centers[n], pki.trust));
  await agreeKeys(runId, names, {
    announce: async (c, run, list) => secure[c].announce(run, list),
    relay: async (c, run, announcements) => secure[c].agree(run, announcements),
  });
  return secure;
}

describe("verified requests", () => {
  it("an honest run: every request admitted, the same numbers as without verification (poscounts; each state step asked twice)", async () => {
    const { data, plan } = await verifiedOutliersSim("poscounts");
    const job = runJobFromPlan(plan, ".");
    const verified = federation(data, plan, true);
    const plain = federation(data, plan, false);
    // Asked twice, poscounts' scaling scales the size factors once: no center computes on other
    // size factors (a red-team finding: twice-scaled factors, masked alike, gave one center's
    // own sums away by difference), and no reply differs from the first under the same masks.
    const a: RunOutcome = await runOverFederation(stuttering(verified.transport), job, {
      plan,
      runId: "v",
    });
    const b: RunOutcome = await runOverFederation(plain.transport, job, { plan, runId: "v" });
    expect(a.results.pvalue.length).toBe(2998);
    expect(Array.from(a.results.pvalue)).toEqual(Array.from(b.results.pvalue));
    expect(Array.from(a.results.log2FoldChange)).toEqual(Array.from(b.results.log2FoldChange));
    expect(Array.from(a.dispersions.final)).toEqual(Array.from(b.dispersions.final));
    // The same replies reach the aggregator; each of the 3 centers is also sent the 2 other
    // centers' replies to the previous request (all but the last request's).
    verified.sessions.forEach((s, c) => {
      expect(s.ownSizeFactors("v")).toEqual(plain.sessions[c].ownSizeFactors("v"));
    });
    const [la, lb] = [a.fit.ledger, b.fit.ledger];
    expect(la.bytesToAggregator).toBe(lb.bytesToAggregator);
    const relayed = la.bytesFromAggregator - lb.bytesFromAggregator;
    expect(relayed).toBeLessThan(2 * la.bytesToAggregator);
    expect(relayed).toBeGreaterThan(0.99 * 2 * la.bytesToAggregator);
  });

  it("a transcript's recording meters the relayed replies as the run without it does", async () => {
    const { data, plan } = await verifiedOutliersSim("ratio", FEW_GENES);
    const job = runJobFromPlan(plan, ".");
    const recorded = federation(data, plan);
    const log = new JsonLinesLog(join(temp.subdir("transcript"), "transcript.jsonl"));
    const a = await runOverFederation(recordingTransport(recorded.transport, log), job, {
      plan,
      runId: "t",
    });
    log.close();
    const b = await runOverFederation(federation(data, plan).transport, job, { plan, runId: "t" });
    expect(a.fit.ledger.bytesToAggregator).toBe(b.fit.ledger.bytesToAggregator);
    // Each reply relayed to the two other centers: twice what went up, less the last round's.
    expect(a.fit.ledger.bytesFromAggregator).toBe(b.fit.ledger.bytesFromAggregator);
    expect(a.fit.ledger.bytesFromAggregator).toBeGreaterThan(1.5 * a.fit.ledger.bytesToAggregator);
  });

  it("refuses an evaluation point of the aggregator's choosing (IRLS coefficients moved by 1e-9)", async () => {
    const { data, plan } = await verifiedOutliersSim("ratio", FEW_GENES);
    const { transport } = federation(data, plan);
    const attack = tampering(transport, "deseq2Irls", 1, (input: StepInput<"deseq2Irls">) => ({
      ...input,
      beta: input.beta.map((b, i) => (i === 0 ? b + 1e-9 : b)),
    }));
    await expect(
      runOverFederation(attack, runJobFromPlan(plan, "."), { plan, runId: "points" }),
    ).rejects.toThrow(
      /refusing deseq2Irls: deseq2Irls \(\w[\w-]* round 1\) with inputs other than those of this center's replay of the plan/,
    );
  });

  it("refuses a dispersion grid of the aggregator's choosing", async () => {
    const { data, plan } = await verifiedOutliersSim();
    const { transport } = federation(data, plan);
    const attack = tampering(
      transport,
      "dispersionGrid",
      0,
      (input: StepInput<"dispersionGrid">) => ({
        ...input,
        points: input.points.map((x) => x * 1.5),
      }),
    );
    await expect(
      runOverFederation(attack, runJobFromPlan(plan, "."), { plan, runId: "grid" }),
    ).rejects.toThrow(/refusing dispersionGrid: .*other than those of this center's replay/);
  });

  it.each([
    ["the first byte of its first masked vector", (names: string[]) => names.sort()[0], 0],
    [
      "the last byte of a split field's fine part (digested as it is masked)",
      (names: string[]) => names.filter((n) => n.startsWith("fine:")).sort()[0],
      -1,
    ],
  ])(
    "refuses when a relayed reply was altered (the sums made up to steer the replay): %s",
    async (_what, pick, at) => {
      const { data, plan } = await verifiedOutliersSim("ratio", FEW_GENES);
      const { transport } = federation(data, plan);
      forgingEvidence(transport, (evidence) => {
        if (evidence.step !== "deseq2Irls") return evidence;
        const replies = evidence.replies.map((reply, c) => {
          if (c !== 1) return reply;
          const masked = { ...reply.masked };
          const name = pick(Object.keys(masked));
          expect(name).toBeDefined();
          const bytes = Uint8Array.from(masked[name]);
          bytes[at < 0 ? bytes.length + at : at] ^= 1;
          masked[name] = bytes;
          return { ...reply, masked };
        });
        return { ...evidence, replies };
      });
      await expect(
        runOverFederation(transport, runJobFromPlan(plan, "."), { plan, runId: "forged" }),
      ).rejects.toThrow(
        /the relayed replies of deseq2Irls .*: the reply relayed as lab_2's to deseq2Irls .* does not carry lab_2's authenticator: it was altered or made up/,
      );
    },
  );

  it("refuses when the relayed replies are altered or withheld", async () => {
    const { data, plan } = await verifiedOutliersSim("ratio", FEW_GENES);
    const own = federation(data, plan);
    forgingEvidence(own.transport, (evidence) => {
      if (evidence.step !== "dispersionMoments") return evidence;
      const replies = evidence.replies.map((reply) => ({
        ...reply,
        clear: { ...reply.clear },
        masked: Object.fromEntries(
          Object.entries(reply.masked).map(([k, v]) => [k, Uint8Array.from(v).reverse()]),
        ),
      }));
      return { ...evidence, replies };
    });
    await expect(
      runOverFederation(own.transport, runJobFromPlan(plan, "."), { plan, runId: "own" }),
    ).rejects.toThrow(/does not carry lab_\d's authenticator/);

    const withheld = federation(data, plan);
    forgingEvidence(withheld.transport, (evidence) =>
      evidence.step === "dispersionMoments" ? null : evidence,
    );
    await expect(
      runOverFederation(withheld.transport, runJobFromPlan(plan, "."), {
        plan,
        runId: "withheld",
      }),
    ).rejects.toThrow(/and no replies relayed to move it on/);
  });

  /** outliers_sim's first center under its verified plan, keys agreed for `runId`, and a presence request. */
  async function verifyingCenter(runId: string) {
    const { data, plan } = await verifiedOutliersSim();
    const secure = await agreed(
      data.map((d) => d.name),
      runId,
    );
    const session = new CenterSession(data[0], { plan, replay: planPipeline(plan) });
    const input: StepInput<"presence"> = { kind: "presence-request", genes: data[0].genes };
    return { plan, secure, session, input };
  }

  it("a center without the run's replay (restarted mid-run) refuses to go on", async () => {
    const { plan, secure, session, input } = await verifyingCenter("late");
    const midRun: RequestTag = { runId: "late", phase: "setup", round: 1, plan: planHash(plan) };
    await expect(session.admit(midRun, "presence", input, null, secure[0])).rejects.toThrow(
      /is not the first request of a run, and this center has no replay of run late \(a center restarted mid-run cannot check the rounds it missed/,
    );
    // Without secure aggregation there are no authenticators to check the relayed replies by.
    const first: RequestTag = { runId: "clear", phase: "setup", round: 0, plan: planHash(plan) };
    await expect(session.admit(first, "presence", input, null, null)).rejects.toThrow(
      /verify every request, which needs secure aggregation/,
    );
  });

  it("refuses a request under another plan as such, before its replay", async () => {
    const { plan, secure, session, input } = await verifyingCenter("other-plan");
    // One byte of the plan changed (alpha 0.1 → 0.2): the replay's refusal said "inputs other
    // than those of this center's replay", not that the aggregator runs another plan.
    const other = planHash({ ...plan, alpha: 0.2 });
    const tag: RequestTag = { runId: "other-plan", phase: "setup", round: 0, plan: other };
    await expect(session.admit(tag, "presence", input, null, secure[0])).rejects.toThrow(
      `refusing presence: the request is made under plan ${other.slice(0, 12)}…, this center approved ${planHash(plan).slice(0, 12)}…`,
    );
  });

  it("a center adds the reply it sent: its own is never relayed back, a peer's never left out", async () => {
    const names = ["lab_1", "lab_2", "lab_3"];
    const secure = await agreed(names, "own");
    const tag: RequestTag = { runId: "own", phase: "setup", round: 0 };
    const input: StepInput<"presence"> = { kind: "presence-request", genes: ["g1", "g2", "g3"] };
    const request = requestDigest(tag, "presence", input, { perCenterFields: false });
    const replies = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 0],
    ].map((bits, c) =>
      secure[c].protect(tag, "presence", input, {
        kind: "presence-share",
        present: Uint8Array.from(bits),
      }),
    );
    const evidence = { tag, step: "presence" as const, replies };
    const relayed = relayedTo(evidence, 0);
    expect(relayed.replies[0]).toBeNull();
    // The replies lab_1's replay adds: the peers' as relayed, its own as it sent it.
    const complete = secure[0].checkEvidence(relayed, request);
    expect(complete.replies).toEqual(replies);
    expect(complete.replies[0]).toBe(replies[0]);
    // Its own reply relayed back, even unaltered, is refused: it would only cost bytes.
    expect(() => secure[0].checkEvidence(evidence, request)).toThrow(
      /a reply was relayed as this center's own to presence \(setup round 0\): a center's own reply is never relayed back/,
    );
    // A peer's reply left out is refused, so is an own reply to another request.
    expect(() =>
      secure[0].checkEvidence({ ...relayed, replies: [null, replies[1], null] }, request),
    ).toThrow(/no reply relayed as lab_3's to presence \(setup round 0\)/);
    const other = requestDigest(
      tag,
      "presence",
      { ...input, genes: ["g1", "g2"] },
      {
        perCenterFields: false,
      },
    );
    expect(() => secure[0].checkEvidence(relayed, other)).toThrow(
      /this center holds no reply of its own to presence \(setup round 0\)/,
    );
  });

  it("a center never masks two different replies under one label (their difference would leak)", async () => {
    const names = ["lab_1", "lab_2", "lab_3"];
    const secure = await agreed(names, "labels");
    const tag: RequestTag = { runId: "labels", phase: "setup", round: 0 };
    const input: StepInput<"presence"> = { kind: "presence-request", genes: ["g1", "g2"] };
    const reply = (...bits: number[]): StepOutput<"presence"> => ({
      kind: "presence-share",
      present: Uint8Array.from(bits),
    });
    secure[0].protect(tag, "presence", input, reply(1, 0));
    expect(() => secure[0].protect(tag, "presence", input, reply(1, 0))).not.toThrow();
    expect(() => secure[0].protect(tag, "presence", input, reply(1, 1))).toThrow(
      /refusing to mask a reply to presence \(setup round 0\) other than the one it already sent for the same request/,
    );
  });

  it("refuses a run whose key agreement is not among the plan's centers, and a second run", async () => {
    const { data, plan } = await verifiedOutliersSim();
    const session = new CenterSession(data[0], { plan, replay: planPipeline(plan) });
    const presence: StepInput<"presence"> = { kind: "presence-request", genes: data[0].genes };
    const first = (runId: string): RequestTag => ({
      runId,
      phase: "setup",
      round: 0,
      plan: planHash(plan),
    });
    // Masks among two of the three centers would let the aggregator read those two's OR or sum.
    const pair = await agreed(["lab_1", "lab_2"], "pair");
    await expect(session.admit(first("pair"), "presence", presence, null, pair[0])).rejects.toThrow(
      /the run's secure aggregation was agreed among lab_1, lab_2, the plan's centers are lab_1, lab_2, lab_3/,
    );
    const all = ["lab_1", "lab_2", "lab_3"];
    const x = await agreed(all, "X");
    await session.admit(first("X"), "presence", presence, null, x[0]);
    // Another run (e.g. the same sums at other points, or another gene order under new keys).
    const y = await agreed(all, "Y");
    await expect(session.admit(first("Y"), "presence", presence, null, y[0])).rejects.toThrow(
      /this center answers one run per start \(run X\); a request of run Y is refused/,
    );
  });

  it("a session under a verifying plan needs the pipeline to replay", async () => {
    const { data, plan } = await verifiedOutliersSim();
    expect(() => new CenterSession(data[0], { plan })).toThrow(
      /the plan has the centers verify every request, and this session was given no pipeline to replay/,
    );
  });
  it("the PCA (vst): coordinates sent only under pca_coordinates, in the run's last round, never relayed", async () => {
    const { data, plan: base } = await verifiedOutliersSim("ratio", FEW_GENES);
    const keeping: AnalysisPlan = { ...base, vst: true };
    const job = runJobFromPlan(keeping, ".");
    // The plan keeps the coordinates at the centers: an aggregator asking for them is refused.
    const attack = tampering(
      federation(data, keeping).transport,
      "pcaCoordinates",
      0,
      (input: StepInput<"pcaCoordinates">) => ({ ...input, send: true }),
    );
    await expect(
      runOverFederation(attack, job, { plan: keeping, runId: "pca-attack" }),
    ).rejects.toThrow(/refusing pcaCoordinates: .*other than those of this center's replay/);
    // Under pca_coordinates they are sent, in the last request of the run: each round's replies
    // are relayed with the next request, and there is none after it.
    const sending: AnalysisPlan = { ...keeping, pcaCoordinates: true };
    const { transport } = federation(data, sending);
    const steps: StepName[] = [];
    const recording: Transport = {
      centers: transport.centers,
      secure: transport.secure,
      relaysReplies: transport.relaysReplies,
      request: (tag, step, inputs) => {
        steps.push(step);
        return transport.request(tag, step, inputs);
      },
      close: () => transport.close(),
    };
    const outcome = await runOverFederation(recording, runJobFromPlan(sending, "."), {
      plan: sending,
      runId: "pca-sent",
    });
    expect(madePca(outcome)?.coordinates?.samples).toHaveLength(18);
    expect(steps.at(-1)).toBe("pcaCoordinates");
  });
});
