/**
 * Reading and checking the PEM files named by --ca, --cert and --key, before anything listens or
 * dials: each must be readable and parse (a certificate, a private key), and the key must be the
 * certificate's.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { TlsFiles } from "../federation/grpc/proto.js";
import { InputError } from "../io/errors.js";

/** The flags naming a party's TLS files. */
export interface TlsFlags {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** Read a party's TLS files; a missing, unreadable or malformed file is a user mistake. */
export function readTlsFiles(flags: TlsFlags): TlsFiles {
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
  certificate("--ca", flags.ca, tls.ca);
  const cert = certificate("--cert", flags.cert, tls.cert);
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
