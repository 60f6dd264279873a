/**
 * The report thread (reportThread.ts): loads the report's plotting libraries as soon as it
 * starts, draws the dispersion plot it may be sent ahead, then renders the one report it is
 * sent (with that plot when drawn from the same numbers) and answers with the page (the calling
 * thread writes it) or the error.
 */
import { parentPort } from "node:worker_threads";
import type { PrerenderedDispersionFigure } from "./html.js";
import type { ReportMessage, ReportReply } from "./reportThread.js";

const port = parentPort;
if (port === null) throw new Error("reportWorker.js runs as a worker thread");

const html = import("./html.js");
let ahead: Promise<PrerenderedDispersionFigure | undefined> = Promise.resolve(undefined);

port.on("message", async (message: ReportMessage) => {
  if (message.kind === "dispersions") {
    const { source } = message;
    // A plot that fails here is drawn again with the report (which reports any error).
    ahead = html
      .then(async (m) => ({ source, svg: await m.renderDispersionFigure(source) }))
      .catch(() => undefined);
    return;
  }
  let reply: ReportReply;
  try {
    const dispersionFigure = await ahead;
    const page = await (await html).renderReport(
      message.input,
      dispersionFigure === undefined ? {} : { dispersionFigure },
    );
    reply = { ok: true, html: page };
  } catch (error) {
    reply = { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
