/** `weft ui` (U08): serve the dashboard of this project's runs until Ctrl-C. */
import { spawn } from "node:child_process";
import { UsageError } from "../api/errors.js";
import { startUi } from "../ui/server.js";
import { EXIT } from "./exit-codes.js";

export interface UiFlags {
  port?: string;
  host?: string;
  open?: boolean;
}

export async function uiCommand(flags: UiFlags): Promise<number> {
  const port = flags.port === undefined ? 0 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be a port number (0 to 65535), got ${JSON.stringify(flags.port)}`);
  }
  let ui: Awaited<ReturnType<typeof startUi>>;
  try {
    ui = await startUi({ cwd: process.cwd(), host: flags.host ?? "127.0.0.1", port });
  } catch (e) {
    throw new UsageError(`cannot serve on ${flags.host ?? "127.0.0.1"}:${port}: ${(e as Error).message}`);
  }
  process.stderr.write(
    `weft ui: ${ui.url}\n(Ctrl-C to stop; the token in the URL is needed for every request)\n`,
  );
  process.stdout.write(`${ui.url}\n`);
  if (flags.open) openBrowser(ui.url);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    process.once("SIGHUP", stop);
  });
  await ui.close();
  return EXIT.completed;
}

function openBrowser(url: string): void {
  const cmd = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  try {
    const child = spawn(cmd, [url], { stdio: "ignore", detached: true });
    child.on("error", () => process.stderr.write(`weft ui: could not start ${cmd}; open the URL yourself\n`));
    child.unref();
  } catch {
    process.stderr.write(`weft ui: could not start ${cmd}; open the URL yourself\n`);
  }
}
