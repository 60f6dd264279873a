/**
 * Node's process warnings, as the command line prints them: Node's own format, without DEP0123.
 *
 * grpc-js hands the dialled host to TLS as the server name. When a center dials its aggregator
 * by IP address, Node warns that an IP address there is deprecated (DEP0123, RFC 6066) on every
 * connection; the certificate's IP address is still verified, so the warning tells a center's
 * operator nothing they can act on and is left out. Every other warning is printed as Node
 * prints it.
 */

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
