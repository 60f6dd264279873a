import { hkdfSync, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Hkdf32 } from "../../../src/federation/secureAggregation/hkdf.js";

describe("Hkdf32", () => {
  it("gives Node's hkdfSync bytes: salts, secrets and infos of any length, secrets reused", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 80 }),
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.uint8Array({ maxLength: 1024 }), { minLength: 1, maxLength: 4 }),
        (salt, secrets, infos) => {
          const hkdf = new Hkdf32(salt);
          for (const info of infos) {
            for (const secret of secrets) {
              const expected = Buffer.from(hkdfSync("sha256", secret, salt, info, 32));
              expect(hkdf.derive(secret, info).equals(expected)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 300, seed: 20261205 },
    );
  });

  it("RFC 5869's test case 1, first 32 bytes of its OKM", () => {
    const ikm = Buffer.alloc(22, 0x0b);
    const salt = Buffer.from("000102030405060708090a0b0c", "hex");
    const info = Buffer.from("f0f1f2f3f4f5f6f7f8f9", "hex");
    expect(new Hkdf32(salt).derive(ikm, info).toString("hex")).toBe(
      "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf",
    );
  });

  it("refuses an info longer than 1024 bytes, as hkdfSync does", () => {
    const secret = randomBytes(32);
    expect(() => hkdfSync("sha256", secret, "s", Buffer.alloc(1025), 32)).toThrow();
    expect(() => new Hkdf32(Buffer.from("s")).derive(secret, Buffer.alloc(1025))).toThrow(
      RangeError,
    );
  });
});
