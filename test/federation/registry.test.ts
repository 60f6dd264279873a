import { describe, expect, it } from "vitest";
import { GenePool } from "../../src/compute/genePool.js";
import { encodeReply, encodeRequest } from "../../src/federation/grpc/codec.js";
import { fedseqProto } from "../../src/federation/grpc/proto.js";
import { replyBytes, requestBytes } from "../../src/federation/grpc/wireBytes.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import type { FieldKind } from "../../src/federation/records.js";
import { STATE_STEPS, STEP_NAMES, STEPS } from "../../src/federation/registry.js";
import type { StepName } from "../../src/federation/steps.js";
import type { Transport } from "../../src/federation/transport.js";
import { simulatedCenters } from "../../src/pipeline/fitLfc.js";
import {
  type Recording,
  replayRecordings,
  sharedRecordings,
  smallOutliersSim,
} from "../helpers/recordedJobs.js";
import { useTempFolder } from "../helpers/tempFiles.js";
import { grpcFederation, TRANSPORTS } from "../helpers/transports.js";

const tmp = useTempFolder("fedseq-registry-");

let dataset: string | null = null;
function data(): string {
  dataset ??= smallOutliersSim(tmp);
  return dataset;
}

let recorded: Promise<Recording[]> | null = null;
/** Every job's exchanges, recorded over the in-process transport (once for this and layer.test). */
function recordings(): Promise<Recording[]> {
  recorded ??= sharedRecordings(data());
  return recorded;
}

/** A reply as comparable values, field by field in its declared order (arrays as bytes). */
function canonical(step: StepName, reply: unknown): [string, unknown][] {
  const values = reply as Record<string, unknown>;
  return (Object.entries(STEPS[step].reply.fields) as [string, FieldKind][]).map(([field]) => {
    const v = values[field];
    if (ArrayBuffer.isView(v)) return [field, Buffer.from(v.buffer, v.byteOffset, v.byteLength)];
    if (Array.isArray(v)) return [field, JSON.stringify(v)];
    return [field, v];
  });
}

/** The first difference between two replies (null: bit-identical). */
function difference(step: StepName, a: unknown, b: unknown): string | null {
  const x = canonical(step, a);
  const y = canonical(step, b);
  for (let i = 0; i < x.length; i++) {
    const [field, u] = x[i];
    const v = y[i][1];
    const same = Buffer.isBuffer(u) && Buffer.isBuffer(v) ? u.equals(v) : Object.is(u, v);
    if (!same) return field;
  }
  return null;
}

/** Per step: replies compared, and where they differed. */
type ReplayOutcome = Map<StepName, { compared: number; differences: string[] }>;

/** The transports the exchanges are replayed over, from the dataset folder and a run id. */
const REPLAY_TRANSPORTS: Record<
  string,
  (dir: string, runId: string) => Promise<{ transport: Transport; done?: () => Promise<void> }>
> = {
  "in-process": async (dir) => ({ transport: new InProcessTransport(await simulatedCenters(dir)) }),
  "in-process, kernels on 2 threads": async (dir) => {
    const pool = new GenePool({ threads: 2, minWork: 0 });
    const transport = new InProcessTransport(await simulatedCenters(dir, {}, { kernels: pool }));
    return { transport, done: () => pool.close() };
  },
  "worker-threads": async (dir) => ({ transport: await TRANSPORTS["worker-threads"](dir) }),
  grpc: async (dir, runId) => ({ transport: await grpcFederation(dir, runId) }),
};

const replays = new Map<string, Promise<ReplayOutcome>>();
/** Replay every recorded exchange, in order, over a transport (once per transport). */
function replay(name: string): Promise<ReplayOutcome> {
  let outcome = replays.get(name);
  if (outcome === undefined) {
    outcome = (async () => {
      const result: ReplayOutcome = new Map();
      await replayRecordings(
        await recordings(),
        (runId) => REPLAY_TRANSPORTS[name](data(), runId),
        name !== "grpc",
        ({ tag, step, replies }, ours) => {
          const entry = result.get(step) ?? { compared: 0, differences: [] };
          ours.forEach((reply, c) => {
            const field = difference(step, reply, replies[c]);
            if (field !== null)
              entry.differences.push(`${tag.phase} round ${tag.round}, center ${c}: ${field}`);
            entry.compared++;
          });
          result.set(step, entry);
        },
      );
      return result;
    })();
    replays.set(name, outcome);
  }
  return outcome;
}

const join_ = () => fedseqProto().fedseq.v1.Federation.service.Join;

describe("the step registry", () => {
  it("declares every reply field's reduction and a description, and the state steps by flag", () => {
    for (const step of STEP_NAMES) {
      const spec = STEPS[step];
      expect(Object.keys(spec.reductions).sort(), step).toEqual(
        Object.keys(spec.reply.fields).sort(),
      );
      expect(spec.sends.length, step).toBeGreaterThan(10);
      expect(STATE_STEPS.has(step)).toBe(spec.buildsState);
    }
  });

  it("the recorded jobs exercise every registered step", async () => {
    const seen = new Set((await recordings()).flatMap((r) => r.exchanges.map((e) => e.step)));
    expect([...STEP_NAMES].filter((step) => !seen.has(step))).toEqual([]);
  });

  for (const step of STEP_NAMES) {
    describe(step, () => {
      for (const transport of Object.keys(REPLAY_TRANSPORTS)) {
        it(`replies over ${transport} are bit-identical to the recorded ones`, async () => {
          const outcome = (await replay(transport)).get(step);
          expect(outcome?.compared ?? 0).toBeGreaterThan(0);
          expect(outcome?.differences).toEqual([]);
        });
      }

      it("metered sizes are the encoded messages' lengths", async () => {
        let checked = 0;
        for (const { exchanges } of await recordings()) {
          for (const { tag, step: s, inputs, replies } of exchanges) {
            if (s !== step) continue;
            for (const input of new Set(inputs)) {
              const bytes = join_().responseSerialize({
                request: encodeRequest(tag, s, input as never),
              });
              expect(requestBytes(tag, s, input as never)).toBe(bytes.length);
            }
            for (const reply of replies) {
              const bytes = join_().requestSerialize({
                reply: encodeReply(tag, s, reply as never),
              });
              expect(replyBytes(tag, s, reply as never)).toBe(bytes.length);
            }
            checked++;
          }
        }
        expect(checked).toBeGreaterThan(0);
      });
    });
  }
});
