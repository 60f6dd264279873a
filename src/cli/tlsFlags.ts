/**
 * Reading and checking the PEM files named by --ca, --cert and --key, before anything listens or
 * dials: each must be readable and parse (a certificate, a private key), and the key must be the
 * certificate's.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { TlsFiles } from "../federation/grpc/proto.js";
import { commonNames } from "../federation/secureAggregation/keyAgreement.js";
import { InputError } from "../io/errors.js";

/** The flags naming a party's TLS files. */
export interface TlsFlags {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * Read a party's TLS files; a missing, unreadable or malformed file is a user mistake, and so is
 * a certificate the federation would refuse in its handshake (outside its validity period, not
 * issued by --ca, or, for a center, made out to another name): said here in one line, instead
 * of as connection attempts that fail until --give-up-after.
 * @param commonName - the name the certificate must be made out to (a center's --name)
 */
export function readTlsFiles(flags: TlsFlags, commonName?: string): TlsFiles {
  const read = (flag: string, file: string): Buffer => {
    let text: Buffer;
    try {
      text = readFileSync(file);
    } catch (error) {
      throw new InputError(
        `${flag} ${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
    if (!text.includes("-----BEGIN")) throw new InputError(`${flag} ${file}: not a PEM file`);
    return text;
  };
  const certificate = (flag: string, file: string, pem: Buffer): X509Certificate => {
    try {
      return new X509Certificate(pem);
    } catch {
      throw new InputError(`${flag} ${file}: not a PEM certificate`);
    }
  };
  const tls = {
    ca: read("--ca", flags.ca),
    cert: read("--cert", flags.cert),
    key: read("--key", flags.key),
  };
  const ca = certificate("--ca", flags.ca, tls.ca);
  const cert = certificate("--cert", flags.cert, tls.cert);
  const now = Date.now();
  for (const [flag, file, c] of [
    ["--cert", flags.cert, cert],
    ["--ca", flags.ca, ca],
  ] as const) {
    if (now < Date.parse(c.validFrom))
      throw new InputError(`${flag} ${file}: not valid before ${c.validFrom}`);
    if (now > Date.parse(c.validTo))
      throw new InputError(`${flag} ${file}: expired on ${c.validTo}`);
  }
  // (Only a lone certificate against a lone CA: a chain through intermediates is left to TLS.)
  const count = (pem: Buffer) =>
    pem.toString("latin1").split("-----BEGIN CERTIFICATE-----").length - 1;
  const lone = count(tls.cert) === 1 && count(tls.ca) === 1;
  if (lone && (!cert.checkIssued(ca) || !cert.verify(ca.publicKey))) {
    throw new InputError(`--cert ${flags.cert}: not issued by --ca ${flags.ca}`);
  }
  if (commonName !== undefined) {
    // Read as the key agreement reads it (Node's parse, not the printed subject).
    const names = commonNames(cert);
    if (names.length !== 1 || names[0] !== commonName) {
      throw new InputError(
        `--cert ${flags.cert}: made out to ${names.length === 0 ? "no name" : names.map((n) => JSON.stringify(n)).join(", ")}, not to this center (--name ${commonName})`,
      );
    }
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(tls.key);
  } catch {
    throw new InputError(`--key ${flags.key}: not an unencrypted PEM private key`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new InputError(`--key ${flags.key}: not the private key of --cert ${flags.cert}`);
  }
  return tls;
}
