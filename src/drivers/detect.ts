/**
 * Which agent CLIs this machine has (D03): looked up on PATH the way a shell would, so that
 * `weft run` without a driver picks the first one, and `weft doctor` can say what is there.
 */
import { execFile } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";

/** The executable a command name resolves to, or undefined. A name with a slash is a path. */
export function findExecutable(
  bin: string,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): string | undefined {
  const candidates = bin.includes("/")
    ? [isAbsolute(bin) ? bin : resolve(cwd, bin)]
    : (env.PATH ?? "")
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, bin));
  for (const path of candidates) {
    try {
      if (!statSync(path).isFile()) continue;
      accessSync(path, constants.X_OK);
      return path;
    } catch {}
  }
  return undefined;
}

/**
 * The first line the CLI prints for `--version`, or the reason it printed none. Read from stdout,
 * else stderr: pi 0.73 prints its version on stderr.
 */
export function cliVersion(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ version?: string; error?: string }> {
  return new Promise((done) => {
    execFile(path, ["--version"], { env, timeout: 15_000, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      const first = (text: string) => text.trim().split("\n")[0]?.trim();
      const line = first(`${stdout}`) || (err ? undefined : first(`${stderr}`));
      if (err && !line) done({ error: (`${stderr}`.trim().split("\n").pop() || err.message).trim() });
      else done({ version: line || "(no version printed)" });
    });
  });
}
