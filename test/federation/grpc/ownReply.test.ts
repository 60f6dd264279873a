/**
 * Under verified requests a center adds its own reply as it holds it (5dd9c59), the aggregator as
 * it decoded it off the wire: the two must be the same, clear fields included (their names, their
 * types, their values bit for bit), or an honest center's replay would diverge from the
 * aggregator's and refuse its next request. Checked for every reply of runs that reach every
 * step a verified plan uses.
 */
import { expect, it } from "vitest";
import { CenterSession } from "../../../src/federation/centerSession.js";
import { decodeProtectedReply, encodeProtectedReply } from "../../../src/federation/grpc/codec.js";
import { fedseqProto } from "../../../src/federation/grpc/proto.js";
import { InProcessTransport } from "../../../src/federation/inProcess.js";
import type { AnalysisPlan } from "../../../src/federation/plan.js";
import { replyFingerprint } from "../../../src/federation/secureAggregation/authentication.js";
import { SecureCenter } from "../../../src/federation/secureAggregation/layer.js";
import { runJobFromPlan } from "../../../src/pipeline/analysisPlan.js";
import { planPipeline, runOverFederation } from "../../../src/pipeline/run.js";
import { verifiedOutliersSim } from "../../helpers/verifiedPlan.js";

const kind = (v: unknown) => Object.prototype.toString.call(v);

it.each<[string, Partial<AnalysisPlan>]>([
  ["the PCA, its coordinates sent", { vst: true, pcaCoordinates: true, vstMaxCount: true }],
  ["PQN, apeglm", { mode: "pqn", solver: "fast", fitType: "local", lfcShrink: "apeglm" }],
  ["IRLS-PQN, normal shrinkage", { mode: "irls-pqn", solver: "upstream", lfcShrink: "normal" }],
  ["iterated size factors", { sizeFactorsType: "iterate" }],
])(
  "the reply a center holds is the one the aggregator decodes (%s)",
  async (_what, changes) => {
    const type = changes.sizeFactorsType ?? "poscounts";
    const { data, plan: base } = await verifiedOutliersSim(type, 600);
    const plan: AnalysisPlan = { ...base, ...changes };
    const join = fedseqProto().fedseq.v1.Federation.service.Join;
    const differ: string[] = [];
    const steps = new Set<string>();
    const begin = SecureCenter.prototype.beginProtect;
    SecureCenter.prototype.beginProtect = function (
      this: SecureCenter,
      tag,
      step,
      output,
      ...rest
    ) {
      const pending = begin.call(this, tag, step, output, ...rest);
      return {
        finish: () => {
          const held = pending.finish();
          const sent = encodeProtectedReply(tag, step, held);
          const wire = join.requestDeserialize(join.requestSerialize({ reply: sent })).reply;
          const decoded = decodeProtectedReply(wire as never, step);
          steps.add(step);
          const names = (r: typeof held) => Object.keys(r.clear).sort().join(", ");
          if (names(held) !== names(decoded))
            differ.push(`${step}: ${names(held)} / ${names(decoded)}`);
          for (const [name, value] of Object.entries(held.clear)) {
            const other = decoded.clear[name];
            if (kind(value) !== kind(other)) differ.push(`${step}.${name}: ${kind(value)}`);
            else if (typeof value !== "object" && !Object.is(value, other))
              differ.push(`${step}.${name}`);
          }
          if (!replyFingerprint(step, held).equals(replyFingerprint(step, decoded))) {
            differ.push(`${step}: fingerprint`);
          }
          return held;
        },
      };
    } as typeof begin;
    try {
      const sessions = data.map((d) => new CenterSession(d, { plan, replay: planPipeline(plan) }));
      const transport = new InProcessTransport(sessions, { secureAggregation: true });
      await runOverFederation(transport, runJobFromPlan(plan, "."), { plan, runId: "own" });
    } finally {
      SecureCenter.prototype.beginProtect = begin;
    }
    expect(steps.size).toBeGreaterThan(15);
    expect(differ).toEqual([]);
  },
  120_000,
);
