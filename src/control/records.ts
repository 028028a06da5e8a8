/**
 * What the owner of a run writes in its journal for each control request it takes (C04, C05,
 * C08): who sent it and when, what it asked, whether it was applied and what happened. The
 * sender reads this record back to tell the person what happened; `weft logs` shows it too.
 * (Gate answers have records of their own: gate.answered and gate.refused, engine/gates.ts.)
 */
import type { ControlMessage, ControlRequest } from "./channel.js";

export interface ControlRecord {
  type: "control";
  /** The request's id (its file name in `control/`). */
  msg: string;
  /** Who sent it, as the request says. */
  from: string;
  /** ISO time the request was sent. */
  sentAt: string;
  /** ISO time the owner took it. */
  at: string;
  request: ControlRequest;
  /** Applied (true), or refused with `outcome` saying why. */
  ok: boolean;
  /** What happened, in words: "stopped agent 3 (lint)", "no agent 9 is running". */
  outcome: string;
}

export function controlRecord(msg: ControlMessage, ok: boolean, outcome: string): ControlRecord {
  return {
    type: "control",
    msg: msg.id,
    from: msg.from,
    sentAt: msg.at,
    at: new Date().toISOString(),
    request: msg.request,
    ok,
    outcome,
  };
}

/** A request in words, for messages: `stop-agent lint`, `pause`. */
export function describeRequest(r: ControlRequest): string {
  switch (r.type) {
    case "stop-agent":
    case "restart-agent":
      return `${r.type} ${typeof r.agent === "number" ? r.agent : JSON.stringify(r.agent)}`;
    case "approve":
    case "reject":
      return r.gate === undefined ? r.type : `${r.type} ${JSON.stringify(r.gate)}`;
    default:
      return r.type;
  }
}
