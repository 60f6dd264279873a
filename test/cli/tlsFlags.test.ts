/**
 * A party's TLS files (src/cli/tlsFlags.ts): a certificate the federation's handshake would
 * refuse is refused when it is read, in one line naming the file, instead of as connection
 * attempts that fail until --give-up-after.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { readTlsFiles } from "../../src/cli/tlsFlags.js";
import { makeTrialCertificates } from "../../src/federation/grpc/certificates.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const temp = useTempFolder("fedseq-tls-flags-");

describe("readTlsFiles", () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const certs = makeTrialCertificates(temp.subdir("federation"), ["hospital_a", "hospital_b"]);
  const other = makeTrialCertificates(temp.subdir("other"), ["hospital_a"]);
  const flags = (party: { cert: string; key: string }, ca = certs.ca) => ({ ca, ...party });

  it("reads a center's files made out to its name by the federation's CA, and the aggregator's", () => {
    expect(readTlsFiles(flags(certs.centers.hospital_a), "hospital_a").cert.length).toBeGreaterThan(
      0,
    );
    expect(readTlsFiles(flags(certs.aggregator)).key.length).toBeGreaterThan(0);
  });

  it("refuses a certificate made out to another center, or issued by another CA", () => {
    expect(() => readTlsFiles(flags(certs.centers.hospital_a), "hospital_b")).toThrow(
      /--cert \S+hospital_a\.pem: made out to "hospital_a", not to this center \(--name hospital_b\)/,
    );
    expect(() => readTlsFiles(flags(other.centers.hospital_a), "hospital_a")).toThrow(
      /--cert \S+hospital_a\.pem: not issued by --ca \S+ca\.pem/,
    );
  });

  it("refuses a certificate outside its validity period (the trial's 30 days)", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31 * 86_400_000);
    expect(() => readTlsFiles(flags(certs.centers.hospital_a), "hospital_a")).toThrow(
      /--cert \S+hospital_a\.pem: expired on /,
    );
    vi.setSystemTime(Date.now() - 62 * 86_400_000);
    expect(() => readTlsFiles(flags(certs.centers.hospital_a), "hospital_a")).toThrow(
      /--cert \S+hospital_a\.pem: not valid before /,
    );
  });
});
