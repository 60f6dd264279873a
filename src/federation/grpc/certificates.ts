/**
 * Certificates for a trial federation, made with the system's `openssl`: a CA, a server
 * certificate for the aggregator and a client certificate per center (common name = center
 * name, which the aggregator checks against the name the center announces). Real deployments
 * bring certificates from their own PKI.
 */
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeFolders } from "../../io/folders.js";

/** Files written by {@link makeTrialCertificates}. */
export interface TrialCertificates {
  readonly ca: string;
  readonly aggregator: { cert: string; key: string };
  readonly centers: Record<string, { cert: string; key: string }>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(
      `openssl ${args[0]} failed${stderr ? `: ${stderr}` : ""} (is openssl installed?)`,
    );
  }
}

/**
 * Make a CA (valid `days` days) and certificates for the aggregator (valid for `hosts`, e.g.
 * localhost and 127.0.0.1) and each center, as PEM files in `dir`.
 */
export function makeTrialCertificates(
  dir: string,
  centers: readonly string[],
  hosts: readonly string[] = ["localhost", "127.0.0.1"],
  days = 30,
): TrialCertificates {
  for (const c of centers) {
    if (!NAME.test(c))
      throw new Error(`center name ${JSON.stringify(c)}: use letters, digits, ".", "_" and "-"`);
  }
  makeFolders(dir);
  const key = (file: string) => [
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    file,
  ];
  openssl(key("ca.key"), dir);
  openssl(
    [
      "req",
      "-x509",
      "-new",
      "-key",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      String(days),
      "-subj",
      "/CN=fedseq trial CA",
    ],
    dir,
  );
  const sign = (name: string, extensions: string) => {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(key(`${name}.key`), dir);
    openssl(
      ["req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`],
      dir,
    );
    openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        `${name}.pem`,
        "-days",
        String(days),
        "-extfile",
        `${name}.ext`,
      ],
      dir,
    );
    rmSync(join(dir, `${name}.csr`));
    rmSync(join(dir, `${name}.ext`));
    return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  };
  const altNames = hosts.map((h) => (/^[0-9.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(",");
  const aggregator = sign(
    "aggregator",
    `subjectAltName=${altNames}\nextendedKeyUsage=serverAuth\n`,
  );
  const out: Record<string, { cert: string; key: string }> = {};
  for (const c of centers)
    out[c] = sign(c, `subjectAltName=DNS:${c}\nextendedKeyUsage=clientAuth\n`);
  rmSync(join(dir, "ca.srl"), { force: true });
  return { ca: join(dir, "ca.pem"), aggregator, centers: out };
}
