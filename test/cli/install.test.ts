/**
 * U01/U05: the README's install section, followed word for word: from a copy of this checkout,
 * each command line of its code blocks runs in `sh` with npm's global prefix pointed at a fresh
 * folder (npm_config_prefix; the commands themselves are the README's). npm takes packages from
 * its cache first (prefer-offline): `npm ci` here filled it, and CI has the registry besides.
 * Then the installed `weft` runs an example, and the MCP command that `weft init --skill claude`
 * wrote starts and lists its tools over stdio with the SDK client.
 */
import { execFileSync, execSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { expect, test } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const VERSION = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version as string;

/** The command lines of the README's "## Install" section, by code block, comments cut. */
function installBlocks(readme: string): string[][] {
  const start = readme.indexOf("\n## Install\n");
  if (start < 0) throw new Error('README has no "## Install" section');
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks: string[][] = [];
  for (const m of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = m[1]!
      .split("\n")
      .map((l) => l.replace(/\s+#\s.*$/, "").trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    blocks.push(lines);
  }
  return blocks;
}

/** A copy of the checkout as a clone has it: tracked and new files, no node_modules or dist. */
function copyCheckout(): string {
  const to = mkdtempSync(join(tmpdir(), "weft-clone-"));
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], {
    cwd: root,
    encoding: "utf8",
  })
    .split("\0")
    .filter((f) => f && !f.startsWith("node_modules") && !f.startsWith("dist/") && existsSync(join(root, f)));
  for (const f of files) {
    mkdirSync(dirname(join(to, f)), { recursive: true });
    cpSync(join(root, f), join(to, f));
  }
  return to;
}

function envWith(prefix: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("WEFT_") && !k.toLowerCase().startsWith("npm_")) env[k] = v;
  }
  return {
    ...env,
    PATH: [join(prefix, "bin"), dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(":"),
    XDG_CONFIG_HOME: join(prefix, "xdg"),
    npm_config_prefix: prefix,
    npm_config_prefer_offline: "true",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
  };
}

const sh = (line: string, cwd: string, env: NodeJS.ProcessEnv) =>
  execSync(line, { cwd, env, shell: "/bin/sh", encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

async function mcpTools(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const transport = new StdioClientTransport({
    command,
    args,
    cwd,
    env: env as Record<string, string>,
    stderr: "pipe",
  });
  const client = new Client({ name: "weft-install-test", version: "1.0.0" });
  await client.connect(transport);
  try {
    return (await client.listTools()).tools.map((t) => t.name).sort();
  } finally {
    await client.close();
  }
}

const TOOLS = ["workflow", "workflow_control", "workflow_result", "workflow_status", "workflow_wait"];

test("U01 U05 the README's install section, word for word, puts weft on PATH; the tarball copy runs an example and the MCP command init wrote", async () => {
  // The blocks that install: a clone install (npm ci, npm install -g .) and a tarball one.
  const blocks = installBlocks(readFileSync(join(root, "README.md"), "utf8")).filter((b) =>
    b.some((l) => l.includes("npm install -g")),
  );
  expect(blocks).toHaveLength(2);
  expect(blocks[0]).toContain("npm install -g .");
  expect(blocks[1]!.join("\n")).toMatch(/npm pack[\s\S]*npm install -g \.\/weftkit-\*\.tgz/);
  const clone = copyCheckout();

  // 1. From the clone: npm ci, npm install -g . (a link to the clone), then weft itself.
  const linked = mkdtempSync(join(tmpdir(), "weft-prefix-link-"));
  const envA = envWith(linked);
  const outA: Record<string, string> = {};
  for (const line of blocks[0]!) outA[line] = sh(line, clone, envA);
  expect(realpathSync(join(linked, "bin", "weft"))).toBe(realpathSync(join(clone, "dist", "cli", "main.js")));
  const versionLine = blocks[0]!.find((l) => l.startsWith("weft --version"));
  expect(versionLine).toBeDefined();
  expect(outA[versionLine!]!.trim()).toBe(VERSION);
  const exampleLine = blocks[0]!.find((l) => l.startsWith("weft run examples/"));
  expect(exampleLine).toBeDefined();
  const counts = JSON.parse(outA[exampleLine!]!);
  expect(counts["package.json"]).toBe(
    readFileSync(join(clone, "package.json"), "utf8").split("\n").length - 1,
  );

  // The linked weft is the weft on PATH: init registers `weft mcp` and says why.
  const projA = mkdtempSync(join(tmpdir(), "weft-proj-link-"));
  const initA = sh("weft init --skill claude", projA, envA);
  expect(initA).toMatch(/wrote {4}\.mcp\.json .*`weft mcp` \(the weft on PATH .* is this one\)/);
  expect(JSON.parse(readFileSync(join(projA, ".mcp.json"), "utf8")).mcpServers.weft).toEqual({
    command: "weft",
    args: ["mcp"],
  });

  // 2. The tarball into another fresh prefix: a copy, which works once the clone is gone.
  const packed = mkdtempSync(join(tmpdir(), "weft-prefix-tgz-"));
  const envB = envWith(packed);
  for (const line of blocks[1]!) sh(line, clone, envB);
  const installed = join(packed, "lib", "node_modules", "weftkit");
  expect(lstatSync(installed).isSymbolicLink()).toBe(false);
  const proj = mkdtempSync(join(tmpdir(), "weft-proj-"));
  cpSync(join(clone, "examples", "count-lines.js"), join(proj, "count-lines.js"));
  writeFileSync(join(proj, "a.txt"), "1\n2\n3\n");
  renameSync(clone, `${clone}-gone`);
  try {
    expect(sh("weft --version", proj, envB).trim()).toBe(VERSION);
    const run = sh(
      `weft run count-lines.js --args '{"files":["a.txt"]}' --command 'tail -n 1 | xargs wc -l'`,
      proj,
      envB,
    );
    expect(JSON.parse(run)).toEqual({ "a.txt": 3 });

    const init = sh("weft init --skill claude", proj, envB);
    expect(init).toContain("`weft mcp` (the weft on PATH");
    const server = JSON.parse(readFileSync(join(proj, ".mcp.json"), "utf8")).mcpServers.weft;
    expect(server).toEqual({ command: "weft", args: ["mcp"] });
    // Started as Claude Code starts it: the command and args from .mcp.json, in the project.
    expect(await mcpTools(server.command, server.args, proj, envB)).toEqual(TOOLS);

    // U05: the workflow types resolve for this global install (no weftkit in node_modules).
    writeFileSync(
      join(proj, ".weft", "workflows", "typed.ts"),
      '/// <reference types="weftkit/workflow" />\nexport const meta = { name: "t", description: "d" }\nconst s: string = await agent("x", { label: 1 })\n',
    );
    const tsc = join(installed, "node_modules", ".bin", "tsc");
    const tscBin = existsSync(tsc) ? tsc : join(root, "node_modules", ".bin", "tsc");
    let out = "";
    try {
      execFileSync(tscBin, ["-p", join(proj, ".weft", "workflows")], { encoding: "utf8" });
    } catch (e) {
      out = `${(e as { stdout: string }).stdout}`;
    }
    // The one error is the wrong label type: the reference resolved and agent() is typed.
    expect(out).not.toContain("TS2688");
    expect(out).toMatch(/typed\.ts\(3,\d+\): error TS2322/);
  } finally {
    // Three copies of weft and its dependencies: hundreds of MB each time the test runs.
    for (const d of [`${clone}-gone`, clone, linked, packed, projA, proj])
      rmSync(d, { recursive: true, force: true });
  }
}, 1_200_000);
