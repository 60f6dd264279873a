/**
 * Why a center cannot connect to its aggregator, when no retry can help: the aggregator's TLS
 * certificate is not for the name the center dials, not signed by the federation's CA, or
 * expired. gRPC reports all of these as UNAVAILABLE with free text in `details`, like
 * an aggregator that is not up yet; so after such a failure the center makes one TLS handshake of
 * its own with the same files and reads Node's verdict (`authorizationError`, a stable code).
 */
import { isIP } from "node:net";
import { connect, type PeerCertificate } from "node:tls";
import { splitAddress } from "./address.js";
import type { TlsFiles } from "./proto.js";

/** Codes of a certificate chain that does not lead to the federation's CA (OpenSSL's, via Node). */
const NOT_THE_CA = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
]);

/** The problem, in words, of the certificate `cert` for `host`, given Node's `code`. */
function certificateProblem(
  address: string,
  host: string,
  code: string,
  cert: PeerCertificate,
): string | null {
  const at = `the aggregator at ${address} presents a TLS certificate`;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    const names = cert.subjectaltname ? ` (it is for ${cert.subjectaltname})` : "";
    return `${at} that is not valid for ${host}${names}: dial a name it holds, or remake the certificates with ${host} among the names the centers dial (\`fedseq certs --hosts NAME,…,${host}\`)`;
  }
  if (code === "CERT_HAS_EXPIRED")
    return `${at} that has expired (valid until ${cert.valid_to}): make it a new one`;
  // CERT_NOT_YET_VALID is not here: time cures it (a certificate made a moment ago, clocks a
  // little apart), so the center goes on dialling as for an aggregator not up yet.
  if (NOT_THE_CA.has(code))
    return `${at} not signed by the federation's CA (--ca) (${code}): give the center the CA that signed the aggregator's certificate, or the aggregator a certificate of this CA`;
  return null;
}

/**
 * Connect to the aggregator at `address` with the center's TLS files and say what makes its
 * certificate unusable for good (see the module's comment), or null when it is fine or the
 * handshake did not happen (nothing listening, a timeout: worth retrying).
 * @param timeoutMs - the handshake's deadline
 */
export function permanentCertificateProblem(
  address: string,
  tls: TlsFiles,
  timeoutMs: number,
): Promise<string | null> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve) => {
    let done = false;
    const socket = connect(
      {
        host,
        port,
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        // A name, not an address, as gRPC sends it (SNI takes no IP addresses).
        ...(isIP(host) === 0 ? { servername: host } : {}),
        // Accepted only to be read: nothing is sent on this connection.
        rejectUnauthorized: false,
        ALPNProtocols: ["h2"],
      },
      () => {
        const code = socket.authorized ? null : String(socket.authorizationError ?? "");
        finish(
          code === null
            ? null
            : certificateProblem(address, host, code, socket.getPeerCertificate()),
        );
      },
    );
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.on("error", () => finish(null));
    function finish(problem: string | null): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    }
  });
}
