/**
 * The command line's warnings: a finished run's ({@link printRunWarnings}), and Node's process
 * warnings, as the command line prints them: Node's own format, without DEP0123.
 *
 * grpc-js hands the dialled host to TLS as the server name. When a center dials its aggregator
 * by IP address, Node warns that an IP address there is deprecated (DEP0123, RFC 6066) on every
 * connection; the certificate's IP address is still verified, so the warning tells a center's
 * operator nothing they can act on and is left out. Every other warning is printed as Node
 * prints it.
 */

import type { RunJson } from "../pipeline/run.js";

/** Print one warning line on stderr: `fedseq: warning: …`, or after another `prefix`. */
export function warn(message: string, prefix = "fedseq: "): void {
  process.stderr.write(`${prefix}warning: ${message}\n`);
}

/**
 * A finished run's warnings on stderr, one line each (`run` and `demo`): DESeq2's own about the
 * design, a vst not written, and each k-sample rule a real federation would have refused.
 */
export function printRunWarnings(report: RunJson): void {
  for (const warning of report.design_warnings ?? []) warn(warning);
  if (report.vst !== undefined && "unavailable" in report.vst)
    warn(`vst.csv not written: ${report.vst.unavailable}`);
  for (const problem of report.k_sample_rule?.unmet ?? []) {
    warn(
      `a real federation would refuse this run: ${problem} (simulated anyway: you hold every center's data; see fedseq plan --min-cell)`,
    );
  }
}

/** Warnings left out. */
const SILENCED = new Set(["DEP0123"]);

/** Print process warnings as Node does, without {@link SILENCED} ones. */
export function installWarningFilter(): void {
  process.removeAllListeners("warning");
  process.on("warning", (warning: Error & { code?: string }) => {
    if (warning.code !== undefined && SILENCED.has(warning.code)) return;
    const code = warning.code === undefined ? "" : `[${warning.code}] `;
    process.stderr.write(`(node:${process.pid}) ${code}${warning.name}: ${warning.message}\n`);
  });
}
