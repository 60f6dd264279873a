/**
 * A center's words reach the aggregator's (and, in its shutdown message, every center's)
 * terminal: they are printed as one line, without control characters.
 */
import { describe, expect, it } from "vitest";
import { CenterError, oneLine } from "../../src/federation/transport.js";

describe("text from another party", () => {
  it("is one printable line: no line breaks, no terminal escapes", () => {
    const forged =
      "boom\nfedseq: condition B vs A: 300 of 300 genes; results in /tmp/x\n\u001b[2J\u001b[31mRED";
    const error = new CenterError("lab_3", forged, false);
    expect(error.message).toBe(
      "center lab_3: boom fedseq: condition B vs A: 300 of 300 genes; results in /tmp/x [2J [31mRED",
    );
    expect(oneLine("a\r\n\tb\u2028c\u0085d")).toBe("a b c d");
  });
});
