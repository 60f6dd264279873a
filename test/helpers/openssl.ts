/**
 * Certificates made with the system's openssl for tests that need what `fedseq certs` does not
 * make (an intermediate CA, an expired certificate, a key of another algorithm).
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** `genpkey`'s arguments for an EC P-256 key, as `fedseq certs` makes. */
export const EC_P256 = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];

/**
 * A key `dir/NAME.key` and a certificate `dir/NAME.pem` for `/CN=NAME`, signed by `issuer`.
 * @param extensions - the certificate's extensions, one per line (openssl's `-extfile`)
 * @returns the certificate's PEM text and the key's
 */
export function issueCertificate(
  dir: string,
  name: string,
  issuer: { readonly cert: string; readonly key: string },
  extensions: string,
  options: { readonly days?: number; readonly keyArgs?: readonly string[] } = {},
): { readonly certificate: string; readonly key: string } {
  const run = (args: string[]) =>
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  run(["genpkey", ...(options.keyArgs ?? EC_P256), "-out", `${name}.key`]);
  run(["req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`]);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  run([
    ...["x509", "-req", "-in", `${name}.csr`, "-days", String(options.days ?? 30)],
    ...["-extfile", `${name}.ext`, "-CA", issuer.cert, "-CAkey", issuer.key],
    ...["-CAcreateserial", "-out", `${name}.pem`],
  ]);
  return {
    certificate: readFileSync(join(dir, `${name}.pem`), "utf8"),
    key: readFileSync(join(dir, `${name}.key`), "utf8"),
  };
}
