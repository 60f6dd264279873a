/**
 * A throwaway PKI for simulated federations (in-process and worker-thread transports), made in
 * memory with node:crypto for one run: an Ed25519 CA and one Ed25519 client certificate per
 * center (common name = center name, extended key usage clientAuth), as minimal X.509 v3 DER.
 * The simulation's centers then announce, sign, verify and derive exactly as a real federation's
 * do (`createEphemeralKey`, `verifyAnnouncement`, `derivePairSecrets`): the same code path, with a
 * CA that lives and dies with the run. It proves nothing about who holds the keys (every key is
 * made in one process), which a simulation does not need; real federations use the centers'
 * TLS certificates from their own PKI.
 */
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import type { FederationTrust } from "./keyAgreement.js";

/** Credentials of every center of a simulated run, and the CA that signs them. */
export interface SimulationPki {
  readonly trust: FederationTrust;
  readonly centers: Record<string, { readonly certificate: string; readonly key: KeyObject }>;
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const seq = (...c: Buffer[]) => tlv(0x30, ...c);

function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map(Number);
  const bytes = [40 * parts[0] + parts[1]];
  for (const part of parts.slice(2)) {
    const chunk = [part & 0x7f];
    for (let v = Math.floor(part / 128); v > 0; v = Math.floor(v / 128))
      chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function name(commonName: string): Buffer {
  return seq(tlv(0x31, seq(oid("2.5.4.3"), tlv(0x0c, Buffer.from(commonName, "utf8")))));
}

function utcTime(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const text = `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return tlv(0x17, Buffer.from(text, "ascii"));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
}

const ED25519 = seq(oid("1.3.101.112"));

function certificate(
  subject: string,
  issuer: string,
  subjectKey: KeyObject,
  issuerKey: KeyObject,
  ca: boolean,
): string {
  const now = Date.now();
  const serial = randomBytes(12);
  serial[0] = (serial[0] & 0x7f) | 0x01; // positive, no leading zero byte
  const extensions = ca
    ? [extension("2.5.29.19", true, seq(tlv(0x01, Buffer.from([0xff]))))]
    : [
        extension("2.5.29.19", true, seq()),
        extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.2"))),
      ];
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    ED25519,
    name(issuer),
    seq(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + 7 * 86_400_000))),
    name(subject),
    subjectKey.export({ type: "spki", format: "der" }),
    tlv(0xa3, seq(...extensions)),
  );
  const signature = sign(null, tbs, issuerKey);
  const der = seq(tbs, ED25519, tlv(0x03, Buffer.from([0]), signature));
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

/** Make a CA and a certificate per center, in memory, valid for a week from an hour ago. */
export function simulationPki(centers: readonly string[]): SimulationPki {
  const caName = `fedseq simulation CA ${randomBytes(6).toString("hex")}`;
  const caKey = generateKeyPairSync("ed25519");
  const ca = certificate(caName, caName, caKey.publicKey, caKey.privateKey, true);
  const out: Record<string, { certificate: string; key: KeyObject }> = {};
  for (const center of centers) {
    const key = generateKeyPairSync("ed25519");
    out[center] = {
      certificate: certificate(center, caName, key.publicKey, caKey.privateKey, false),
      key: key.privateKey,
    };
  }
  return { trust: { ca }, centers: out };
}
