/**
 * Reading the PEM files named by --ca, --cert and --key.
 */
import { readFileSync } from "node:fs";
import type { TlsFiles } from "../federation/grpc/proto.js";
import { InputError } from "../io/errors.js";

/** Read a party's TLS files; a missing or unreadable file is a user mistake. */
export function readTlsFiles(flags: { ca: string; cert: string; key: string }): TlsFiles {
  const read = (flag: string, file: string) => {
    try {
      const text = readFileSync(file);
      if (!text.includes("-----BEGIN")) throw new InputError(`${flag} ${file}: not a PEM file`);
      return text;
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError(
        `${flag} ${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  };
  return {
    ca: read("--ca", flags.ca),
    cert: read("--cert", flags.cert),
    key: read("--key", flags.key),
  };
}

/** Parse HOST:PORT. */
export function hostPort(flag: string) {
  return (text: string): string => {
    if (!/^[^\s:]+:\d{1,5}$/.test(text) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(text)) {
      throw new InputError(`${flag}: expected HOST:PORT, got "${text}"`);
    }
    return text;
  };
}
