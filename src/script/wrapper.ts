/**
 * The wrapper the sandbox puts around a script's code, in a file of its own so that the loader
 * (which checks the wrapped text) and the sandbox worker (which runs it) share one definition
 * without the worker loading the parser. The prefix ends the first line, so the script's first
 * line is the wrapped text's second (hence lineOffset -1 in the worker).
 */
export const SCRIPT_PREFIX = '(async function () {"use strict";\n';
export const SCRIPT_SUFFIX = "\n})";
/**
 * A nested workflow (A11) runs in the same context as the script that called it: its own `args`
 * and a `workflow` that refuses deeper nesting are parameters, shadowing the run's globals. One
 * line, like SCRIPT_PREFIX, so positions stay those of its file.
 */
export const NESTED_PREFIX = '(async function (args, workflow) {"use strict";\n';
