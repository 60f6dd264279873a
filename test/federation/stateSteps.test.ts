/**
 * {@link STATE_STEPS} is what a restarted center is replayed: it must list every step that
 * changes a center's private state, and a replay of those requests must rebuild that state
 * exactly. Checked on whole runs (group design with linear μ, a design with GLM μ, Cook's
 * replacement and refit on outliers_sim): after every step not listed, the center's state is
 * bit-identical to before; after the run, a fresh center fed only the listed requests holds the
 * same state as the one that ran them all.
 */
import { serialize } from "node:v8";
import { describe, expect, it } from "vitest";
import { CenterSession } from "../../src/federation/centerSession.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import {
  type RequestTag,
  STATE_STEPS,
  type StepInput,
  type StepName,
  type StepOutput,
} from "../../src/federation/steps.js";
import { simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { runOverFederation } from "../../src/pipeline/run.js";
import { deseq2Job } from "../helpers/runs.js";
import { sharedPath } from "../helpers/shared.js";

/** Everything a center keeps for a run, as bytes. */
function stateOf(session: CenterSession): Buffer {
  const fit = session.preparedFit;
  return serialize({
    run: session.runState,
    fit: fit === null ? null : { main: fit.main.data, refit: fit.refit?.data ?? null },
  });
}

/** A center that checks the state invariant and records the requests of the listed steps. */
class CheckedCenter extends CenterSession {
  readonly replayLog: { tag: RequestTag; step: StepName; input: unknown }[] = [];
  readonly changedBy = new Set<StepName>();
  override run<K extends StepName>(tag: RequestTag, step: K, input: StepInput<K>): StepOutput<K> {
    const before = stateOf(this);
    const output = super.run(tag, step, input);
    if (STATE_STEPS.has(step)) this.replayLog.push({ tag, step, input });
    else if (!stateOf(this).equals(before)) this.changedBy.add(step);
    return output;
  }
}

describe.each([
  ["outliers_sim", "~ condition"],
  ["outliers_sim", "~ center + condition"],
])("%s %s", (dataset, design) => {
  it("only the listed steps change a center's state, and replaying them rebuilds it", async () => {
    const dir = sharedPath("data", dataset);
    const sessions = (await simulatedCenters(dir)).map((s) => new CheckedCenter(s.data));
    const outcome = await runOverFederation(
      new InProcessTransport(sessions),
      deseq2Job(dataset, design),
      { runId: "state-steps" },
    );
    if (design === "~ condition") expect(outcome.cooks.refitted).toBe(60);
    for (const session of sessions) {
      expect([...session.changedBy]).toEqual([]);
      const fresh = new CenterSession(session.data);
      for (const r of session.replayLog) fresh.run(r.tag, r.step, r.input as never);
      expect(stateOf(fresh).equals(stateOf(session))).toBe(true);
    }
  });
});
