/** weftkit: the library API (SPEC U10; docs/api.md). */
export { NothingToResumeError, UsageError } from "./api/errors.js";
export { type ForkOptions, forkRun, startFork } from "./api/fork.js";
export {
  type ResumeOptions,
  type RunHandle,
  resumeRun,
  runWorkflow,
  startResume,
  startWorkflow,
  type WorkflowOptions,
  type WorkflowResult,
} from "./api/run-workflow.js";
export type { Settings } from "./config/settings.js";
export type { ControlRequest } from "./control/channel.js";
export { type ControlOptions, type ControlOutcome, controlRun } from "./control/client.js";
export { type FollowEventsOptions, followEvents } from "./control/follow.js";
export { type RunStatusView, runStatus, runStatuses } from "./control/status.js";
export { CommandDriver } from "./drivers/command.js";
export type {
  AgentOutcome,
  AgentTask,
  Driver,
  DriverCapabilities,
  DriverEvent,
  DriverRunContext,
  OutcomeStatus,
  Permissions,
  Usage,
} from "./drivers/types.js";
export { createWeftMcpServer, type WeftMcpOptions } from "./mcp/server.js";
export type { Count, FanOut, Plan, PlanAgent, PlanOption } from "./plan/analyze.js";
export { type PlanWorkflowOptions, planWorkflow } from "./plan/plan-workflow.js";
export { planPackets, renderPlan } from "./plan/render.js";
export { renderArtifacts as renderRunArtifacts } from "./report/artifacts/write.js";
export type { LoggedEvent } from "./report/event-log.js";
export type { Reporter, RunEvent, RunStatus, RunSummary } from "./report/events.js";
export { JsonReporter } from "./report/json.js";
export { PlainReporter } from "./report/plain.js";
export { ScriptError } from "./script/errors.js";
export { startUi, type UiOptions, type UiServer } from "./ui/server.js";
export {
  findWorkflow,
  listWorkflows,
  type WorkflowEntry,
  type WorkflowSource,
  workflowFolders,
} from "./workflows/lookup.js";
export { saveWorkflow } from "./workflows/save.js";
