/** Placeholder until this wire format is written: every request gets HTTP 501. */
import type { WireFormat } from "./index.js";
import { json } from "./index.js";

export const responses: WireFormat = {
  name: "responses",
  matches: () => false,
  read: () => {
    throw new Error("responses: not written yet");
  },
  write: (res) => json(res, 501, { error: { message: "responses: not written yet" } }),
  writeError: (res, status, message) => json(res, status, { error: { message } }),
};
