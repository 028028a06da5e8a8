/**
 * Before any test file: the pinned agent CLIs are installed into their cache folder, all at once
 * (about 15 s each, in parallel, on first use; nothing on later runs).
 */
import { CLI_NAMES, ensureCli } from "./clis.js";

export default async function setup(): Promise<void> {
  await Promise.all(CLI_NAMES.map((n) => ensureCli(n)));
}
