/**
 * `fedseq certs`: a CA and certificates for a trial federation (uses the system's openssl).
 */
import { Command } from "commander";
import { makeTrialCertificates } from "../federation/grpc/certificates.js";
import { InputError } from "../io/errors.js";
import { integerOption } from "./options.js";
import { claimOutputFolder } from "./outputFolder.js";

/** The `certs` command. */
export function certsCommand(): Command {
  return new Command("certs")
    .description(
      "make a CA and certificates for a trial federation (real deployments use their own PKI)",
    )
    .requiredOption("--out <dir>", "folder for the PEM files")
    .requiredOption("--centers <names>", "center names, comma-separated")
    .option(
      "--hosts <names>",
      "names and addresses the aggregator is reached by",
      "localhost,127.0.0.1",
    )
    .option("--days <n>", "validity in days", integerOption("--days", 1), 30)
    .addHelpText(
      "after",
      "\nExample:\n  fedseq certs --out certs --centers hospital_a,hospital_b,hospital_c --hosts aggregator.example.org",
    )
    .action((flags: { out: string; centers: string; hosts: string; days: number }) => {
      const centers = flags.centers.split(",").map((s) => s.trim());
      if (centers.some((c) => c === "" || c === "ca" || c === "aggregator")) {
        throw new InputError(
          `--centers: names must be non-empty and not "ca" or "aggregator", got "${flags.centers}"`,
        );
      }
      // The folder is created, proved writable and locked first: one line naming --out and why
      // when it cannot be (a file, a read-only folder, /proc), before openssl runs.
      const folder = claimOutputFolder(flags.out, "--out");
      let made: ReturnType<typeof makeTrialCertificates>;
      try {
        made = makeTrialCertificates(
          flags.out,
          centers,
          flags.hosts.split(",").map((s) => s.trim()),
          flags.days,
        );
      } catch (error) {
        throw new InputError((error as Error).message);
      } finally {
        folder.release();
      }
      process.stdout.write(
        `fedseq certs: CA ${made.ca}; aggregator ${made.aggregator.cert}; centers ${centers.map((c) => made.centers[c].cert).join(", ")}\n` +
          "Give each center its own .pem and .key (and ca.pem); keep ca.key offline.\n",
      );
    });
}
