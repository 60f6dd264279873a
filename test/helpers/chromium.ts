/**
 * Opening a page in headless Chromium (Debian's `chromium` package) and reading what a probe
 * script measured in it. The page under test is loaded unchanged in an iframe of a probe page
 * (file URLs share an origin with `--allow-file-access-from-files`), so that a
 * Content-Security-Policy forbidding scripts in the page does not stop the probe.
 *
 * There is no fallback: when Chromium is missing the caller fails with {@link chromiumPath}'s
 * message (CI installs it with `apt-get install -y chromium`).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

/** Where Chromium is expected (env `FEDSEQ_CHROMIUM` overrides). */
export const CHROMIUM = process.env.FEDSEQ_CHROMIUM ?? "/usr/bin/chromium";

/**
 * The Chromium executable.
 * @throws Error saying how to install it, when it is missing
 */
/** Run a program to completion: its exit status (null when killed), signal, stdout and stderr. */
function spawnText(
  program: string,
  args: string[],
  timeoutMs: number,
): Promise<{
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: Error;
}> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    let stdout = "";
    let stderr = "";
    let error: Error | undefined;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", (e) => {
      error = e;
    });
    child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr, error }));
  });
}

export function chromiumPath(): string {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `headless Chromium is needed for this test and was not found at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y chromium\` (Debian), or set FEDSEQ_CHROMIUM to its path`,
    );
  }
  return CHROMIUM;
}

/**
 * Load `page` (an HTML file) in an iframe of a probe page, run `probe` (the body of a
 * function of the iframe's `document` and `window`, returning JSON-serialisable data) once
 * everything has loaded, and return what it returned.
 * @param frame - size of the iframe in CSS pixels (the whole page should fit, for hit tests)
 * @throws Error when Chromium fails or the probe reports nothing (with Chromium's stderr)
 */
export async function probePage(
  page: string,
  probe: string,
  frame = { width: 1100, height: 3000 },
): Promise<unknown> {
  const chromium = chromiumPath();
  const probeFile = join(dirname(page), `probe-${basename(page)}`);
  writeFileSync(
    probeFile,
    `<!DOCTYPE html>
<html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe id="page" src="${encodeURI(basename(page))}" width="${frame.width}" height="${frame.height}" style="border:0"></iframe>
<pre id="probe-result"></pre>
<script>
window.addEventListener("load", () => {
  const out = document.getElementById("probe-result");
  try {
    const frame = document.getElementById("page");
    const result = (function (document, window) { ${probe} })(frame.contentDocument, frame.contentWindow);
    out.textContent = encodeURIComponent(JSON.stringify({ ok: true, result }));
  } catch (error) {
    out.textContent = encodeURIComponent(JSON.stringify({ ok: false, error: String(error && error.stack || error) }));
  }
});
</script>
</body></html>
`,
  );
  const profile = mkdtempSync(join(tmpdir(), "fedseq-chromium-"));
  try {
    // Asynchronous, so that the test worker keeps answering its runner while Chromium renders.
    const run = await spawnText(
      chromium,
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--allow-file-access-from-files",
        `--user-data-dir=${profile}`,
        `--window-size=${frame.width},${frame.height}`,
        "--virtual-time-budget=10000",
        "--dump-dom",
        pathToFileURL(probeFile).href,
      ],
      120_000,
    );
    const match = /<pre id="probe-result">([^<]*)<\/pre>/.exec(run.stdout ?? "");
    if (run.status !== 0 || match === null || match[1] === "") {
      throw new Error(
        `chromium did not report the probe's result (exit ${run.status}, signal ${run.signal}${run.error ? `, ${run.error.message}` : ""}):\n${(run.stderr ?? "").slice(-3000)}`,
      );
    }
    const report = JSON.parse(decodeURIComponent(match[1])) as
      | { ok: true; result: unknown }
      | { ok: false; error: string };
    if (!report.ok) throw new Error(`the probe failed in chromium: ${report.error}`);
    return report.result;
  } finally {
    rmSync(profile, { recursive: true, force: true });
    rmSync(probeFile, { force: true });
  }
}

/**
 * Page-side source of `countPoints(element)`, for a probe to start with: the points of the
 * scatter plots under `element` (their symbol marks, legends excluded), a path each, or one
 * "M x y h0" each in a merged run of points (`class="points"`, src/reports/svg.ts).
 */
export const COUNT_POINTS = `const countPoints = (element) =>
  [...element.querySelectorAll("g.mark-symbol.role-mark > path")].reduce(
    (n, p) => n + (p.classList.contains("points") ? (p.getAttribute("d").match(/h0/g) || []).length : 1),
    0,
  );
`;
