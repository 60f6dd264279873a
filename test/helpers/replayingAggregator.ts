/**
 * An attacking aggregator for verified-requests tests (written by a red team): it drives the
 * centers' own code (CenterSession, SecureCenter) as the gRPC center agent does (admit → run →
 * protect), and can also run the key agreement again at any time (a center answers every key
 * request) and send any request to any one center.
 */
import { type CenterSession, centerInfo } from "../../src/federation/centerSession.js";
import {
  agreeKeys,
  type ProtectedReply,
  relayedTo,
  SecureAggregator,
  SecureCenter,
} from "../../src/federation/secureAggregation/layer.js";
import { simulationPki } from "../../src/federation/secureAggregation/simulationCertificates.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "../../src/federation/steps.js";
import { type CenterInfo, receivedReply, type Transport } from "../../src/federation/transport.js";

export interface Recorded {
  tag: RequestTag;
  step: StepName;
  inputs: readonly unknown[];
  /** The pooled outputs (what the aggregator reads). */
  pooled: unknown[];
  /** Oracle only (never seen by the aggregator): each centre's own output. */
  own: unknown[];
}

export class ReplayingAggregator implements Transport {
  readonly centers: readonly CenterInfo[];
  readonly secure: SecureAggregator;
  readonly relaysReplies = true;
  readonly sessions: CenterSession[];
  readonly secureCenters: SecureCenter[];
  readonly log: Recorded[] = [];
  #agreedRun: string | null = null;
  /** Stop the honest run after this step (throws). */
  stopAfter: ((tag: RequestTag, step: StepName) => boolean) | null = null;
  /** Called before each request of the honest pipeline is sent (the attack's hook). */
  before: ((tag: RequestTag, step: StepName) => Promise<void>) | null = null;

  constructor(sessions: CenterSession[]) {
    this.sessions = [...sessions].sort((a, b) => (a.name < b.name ? -1 : 1));
    this.centers = this.sessions.map((s) => centerInfo(s.data));
    const names = this.sessions.map((s) => s.name);
    const pki = simulationPki(names);
    this.secure = new SecureAggregator(names);
    this.secureCenters = names.map((n) => new SecureCenter(n, pki.centers[n], pki.trust));
  }

  /** A (new) key agreement among all the plan's centres: what centerAgent does on keyRequest/keyRelay. */
  async rekey(runId: string): Promise<void> {
    const names = this.sessions.map((s) => s.name);
    await agreeKeys(runId, names, {
      announce: async (c, run, list) => this.secureCenters[c].announce(run, list),
      relay: async (c, run, announcements) => this.secureCenters[c].agree(run, announcements),
    });
    this.#agreedRun = runId;
  }

  /**
   * Send one request to centre c alone (the evidence given relayed to it, as the transports
   * relay it: without its own reply), as centerAgent.answer does.
   */
  async ask(
    c: number,
    tag: RequestTag,
    step: StepName,
    input: unknown,
    evidence: ReturnType<SecureAggregator["evidence"]> = null,
  ): Promise<{ reply: ProtectedReply; own: unknown }> {
    const session = this.sessions[c];
    const secure = this.secureCenters[c];
    const relayed = evidence === null ? null : relayedTo(evidence, c);
    await session.admit(tag, step, input as never, relayed, secure);
    const output = session.run(tag, step, input as never);
    const reply = secure.protect(
      tag,
      step,
      input as never,
      output as never,
      session.sharedRequestDigest(tag, step, input as never),
    );
    return { reply, own: output };
  }

  /** Ask every centre and open the pooled sums (what the aggregator reads). */
  async askAll(
    tag: RequestTag,
    step: StepName,
    inputs: readonly unknown[],
    withEvidence = true,
  ): Promise<{ pooled: unknown[]; own: unknown[] }> {
    if (this.#agreedRun !== tag.runId) await this.rekey(tag.runId);
    const evidence = withEvidence ? this.secure.evidence(tag.runId) : null;
    const replies: ProtectedReply[] = [];
    const own: unknown[] = [];
    for (let c = 0; c < this.sessions.length; c++) {
      const r = await this.ask(c, tag, step, inputs[c], evidence);
      replies.push(r.reply);
      own.push(r.own);
    }
    const outputs = this.secure.open(tag, step, inputs as never, replies);
    const pooled = outputs.map((o, c) =>
      receivedReply(this.sessions[c].name, step, inputs[c] as never, o),
    );
    return { pooled, own };
  }

  async request<K extends StepName>(
    tag: RequestTag,
    step: K,
    inputs: readonly StepInput<K>[],
  ): Promise<StepOutput<K>[]> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.#agreedRun !== tag.runId) await this.rekey(tag.runId);
    await this.before?.(tag, step);
    const { pooled, own } = await this.askAll(tag, step, inputs);
    this.log.push({ tag, step, inputs, pooled, own: own.map((o) => structuredClone(o)) });
    if (this.stopAfter?.(tag, step)) throw new Error("red team: stop");
    return pooled as StepOutput<K>[];
  }

  async close(): Promise<void> {}
}
