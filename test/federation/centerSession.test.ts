/**
 * A center's session: only whitelisted steps run; a repeated request (same run, phase, round and
 * step) is answered from cache, never computed twice; fit steps need the run's set-up first.
 */
import { describe, expect, it } from "vitest";
import type { CenterSession } from "../../src/federation/centerSession.js";
import type { RequestTag, StepName } from "../../src/federation/steps.js";
import { simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { sharedPath } from "../helpers/shared.js";

async function site1(): Promise<CenterSession> {
  const sessions = await simulatedCenters(sharedPath("data", "li_lncap"));
  return sessions.find((s) => s.name === "site_1") as CenterSession;
}

const tag = (phase: string, round: number): RequestTag => ({ runId: "run", phase, round });

describe("CenterSession", () => {
  it("answers a repeated request from cache and computes a new one afresh", async () => {
    const session = await site1();
    const request = { kind: "presence-request" as const, genes: session.data.genes.slice(0, 5) };
    const first = session.run(tag("setup", 0), "presence", request);
    const again = session.run(tag("setup", 0), "presence", request);
    expect(again).toBe(first);
    const next = session.run(tag("setup", 1), "presence", request);
    expect(next).not.toBe(first);
    expect(Array.from(next.present)).toEqual(Array.from(first.present));
  });

  it("runs only the whitelisted steps, and fit steps only after the run's set-up", async () => {
    const session = await site1();
    expect(() => session.run(tag("x", 0), "exfiltrate" as StepName, {} as never)).toThrow(
      /unknown step exfiltrate/,
    );
    expect(() =>
      session.run(tag("init", 0), "init", { kind: "init-request", refit: false }),
    ).toThrow(/before its prepare step/);
  });
});
