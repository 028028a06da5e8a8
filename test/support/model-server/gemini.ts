/** Placeholder until this wire format is written: every request gets HTTP 501. */
import type { WireFormat } from "./index.js";
import { json } from "./index.js";

export const gemini: WireFormat = {
  name: "gemini",
  matches: () => false,
  read: () => {
    throw new Error("gemini: not written yet");
  },
  write: (res) => json(res, 501, { error: { message: "gemini: not written yet" } }),
  writeError: (res, status, message) => json(res, status, { error: { message } }),
};
