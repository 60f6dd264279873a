/**
 * `HOST:PORT` addresses, as the listening and dialling flags give them (checked by the command
 * line's `hostPort`). Imports nothing: the command line reads addresses without loading gRPC.
 */

/** HOST and PORT of `HOST:PORT` (`[::1]:7443` too). */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(address.slice(colon + 1)) };
}
