#!/usr/bin/env node
// A stand-in coding agent for the compatibility suite, run by weft's command driver (D09):
//   node agent.mjs <answers.json>
// The compat scripts are written as a user of Claude Code or pi-dynamic-workflows writes them,
// with plain-language prompts, so this agent answers by keywords instead of by directives. The
// answers file is a list of rules; the first whose `when` words all appear in the script's prompt
// (case-insensitive) decides the answer:
//   reply: "text"          printed as the answer; {prompt} {model} {label} {phase} are filled in,
//                          {role}: the agent type's name and first instruction line, if any, and
//                          {permissions}: WEFT_PERMISSIONS, the level weft told the program (D09)
//   json: <value>          printed as JSON (a schema agent's answer)
//   exit: <code>           fail: a message on stderr, then exit with the code
//   usage: [input, output] tokens reported in the usage file
//   write: {path: text}    files written in the agent's folder (its worktree, with isolation)
//   echoStdin: true        print the full prompt weft sent (preamble, role, schema instructions)
//   hang: true             say nothing and never answer (a stalled agent)
// A prompt no rule matches gets "no answer for: <prompt>".
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

const rules = JSON.parse(readFileSync(process.argv[2], "utf8"));
const stdin = readFileSync(0, "utf8");
const prompt = readFileSync(process.env.WEFT_TASK_FILE, "utf8");
const lower = prompt.toLowerCase();

const words = (w) => (Array.isArray(w) ? w : [w]);
const rule = rules.find((r) => words(r.when).every((w) => lower.includes(w.toLowerCase())));

if (!rule) {
  process.stdout.write(`no answer for: ${prompt}\n`);
  process.exit(0);
}
if (rule.usage) {
  const [input, output] = rule.usage;
  writeFileSync(process.env.WEFT_USAGE_FILE, JSON.stringify({ input, output }));
}
for (const [path, text] of Object.entries(rule.write ?? {})) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
if (rule.hang) await new Promise(() => setInterval(() => {}, 1000));
if (rule.exit !== undefined) {
  process.stderr.write(`the agent crashed while working on: ${prompt}\n`);
  process.exit(rule.exit);
}
if (rule.echoStdin) process.stdout.write(stdin);
else if (rule.json !== undefined) process.stdout.write(`${JSON.stringify(rule.json)}\n`);
else {
  const fill = {
    prompt,
    model: process.env.WEFT_MODEL ?? "(default model)",
    label: process.env.WEFT_AGENT_LABEL ?? "(no label)",
    phase: process.env.WEFT_AGENT_PHASE ?? "(no phase)",
    permissions: process.env.WEFT_PERMISSIONS ?? "(not told)",
    role: ((m) => (m ? `${m[1]} (${m[2]})` : "(no role)"))(/## Your role: ([^\n]*)\n\n([^\n]*)/.exec(stdin)),
  };
  process.stdout.write(
    `${String(rule.reply ?? "").replace(/\{(prompt|model|label|phase|role|permissions)\}/g, (_, k) => fill[k])}\n`,
  );
}
