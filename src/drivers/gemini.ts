/** The gemini driver (D02): not written yet; see issue 3. */
import { CliDriver, type Invocation, type StreamState } from "./cli-driver.js";
import type { AgentTask, DriverCapabilities, DriverEvent } from "./types.js";

export class GeminiDriver extends CliDriver {
  readonly name = "gemini";
  readonly npmPackage = "@google/gemini-cli";
  readonly capabilities: DriverCapabilities = { model: true, effort: false, agentType: false, permissions: ["edit"] };

  protected invocation(_task: AgentTask, _dir: string, _extra: string[]): Invocation {
    throw new Error("the gemini driver is not written yet");
  }

  protected read(_event: Record<string, unknown>, _state: StreamState, _emit: (e: DriverEvent) => void): void {}
}
