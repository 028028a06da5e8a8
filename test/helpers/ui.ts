/** Start `weft ui` as a user would, and read the URL it prints. */
import { type ChildProcess, spawn } from "node:child_process";
import { cleanEnv, until, WEFT_BIN } from "./cli.js";

const servers: ChildProcess[] = [];

export function stopUis(): void {
  for (const s of servers.splice(0)) s.kill("SIGTERM");
}

export async function startUiProcess(
  dir: string,
  args: string[] = [],
): Promise<{ url: string; port: number; token: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [WEFT_BIN, "ui", ...args], {
    cwd: dir,
    env: cleanEnv(dir),
    stdio: "pipe",
  });
  servers.push(child);
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  const url = await until(() => /^(http:\/\/\S+)$/m.exec(out)?.[1]);
  const u = new URL(url);
  return { url, port: Number(u.port), token: u.searchParams.get("token")!, child };
}
