/** Process warnings of the command line: Node's format, without DEP0123 (an IP as TLS name). */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect, it } from "vitest";
import { root } from "../helpers/shared.js";

it("prints warnings as Node does, but not DEP0123 (a center dialling its aggregator by IP)", () => {
  const module = pathToFileURL(join(root, "dist", "cli", "warnings.js")).href;
  const script = `
    const { installWarningFilter } = await import(${JSON.stringify(module)});
    installWarningFilter();
    // What Node itself emits when TLS gets an IP address as server name (grpc-js dialling one).
    const tls = await import("node:tls");
    const socket = tls.connect({ host: "127.0.0.1", port: 1, servername: "127.0.0.1" });
    socket.on("error", () => {});
    process.emitWarning("kept", { code: "FEDSEQ_TEST", type: "ExampleWarning" });
    setTimeout(() => {}, 100);
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(/DEP0123/);
  expect(r.stderr).toMatch(/^\(node:\d+\) \[FEDSEQ_TEST\] ExampleWarning: kept$/m);
  // Without the filter Node prints it: the test would see it.
  const bare = spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      'const tls = await import("node:tls"); tls.connect({ host: "127.0.0.1", port: 1, servername: "127.0.0.1" }).on("error", () => {});',
    ],
    { encoding: "utf8" },
  );
  expect(bare.stderr).toMatch(/DEP0123/);
});
