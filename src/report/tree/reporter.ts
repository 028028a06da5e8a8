/**
 * The live tree in a terminal (U02): the model takes every event in O(1); a timer draws at most
 * `fps` frames a second (and once a second for the clocks), each bounded by the terminal's size.
 * Lines that must stay (warnings, logs, refusals, failures, and anything else written to the same
 * stream meanwhile, such as "stopping…" after Ctrl-C) are printed above the frame. At the end the
 * final frame stays on screen with the summary under it.
 *
 * Works from any point of a stream: events before run.started, or a stream read back from a file
 * after the fact (weft attach), where each event's own `at` time is used.
 */
import type { Reporter, RunEvent } from "../events.js";
import { forTerminalUnder as block, forTerminalLine as one } from "../terminal-text.js";
import { frame, type Line } from "./frame.js";
import { TreeModel } from "./model.js";
import { endLines } from "./summary.js";
import type { Mounted } from "./view.js";

/** What the tree needs of a terminal stream; process.stderr is one. */
export interface TtyLike {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  write(chunk: string, ...rest: unknown[]): boolean;
  on?(event: "resize", listener: () => void): unknown;
  off?(event: "resize", listener: () => void): unknown;
}

export interface TreeOptions {
  /** The most agents shown under one phase (fewer when the terminal is short). Default 10. */
  perPhase?: number;
  /** The most frames drawn per second. Default 10. */
  fps?: number;
  /** Count the CPU time spent in the reporter (stats.cpuMicros), for the bench. */
  measure?: boolean;
}

export interface TreeStats {
  /** Frames handed to ink. */
  frames: number;
  /** Renders ink made, and the time they took (ms). */
  renders: number;
  renderMs: number;
  /** CPU time (user + system, µs) spent in event() and in drawing; with `measure` only. */
  cpuMicros: number;
}

type Write = (chunk: unknown, ...rest: unknown[]) => boolean;

export class TreeReporter implements Reporter {
  readonly model = new TreeModel();
  readonly stats: TreeStats = { frames: 0, renders: 0, renderMs: 0, cpuMicros: 0 };
  private readonly perPhase: number;
  private readonly fps: number;
  private readonly measure: boolean;
  private readonly viewModule: Promise<typeof import("./view.js")>;
  private readonly realWrite: (text: string) => void;
  private view?: Mounted;
  private mod?: typeof import("./view.js");
  /** Stepped aside for a prompt (hide()); shown again once no gate waits. */
  private hidden = false;
  /** Ink writes through this object, the only way left to the real stream while the tree is up. */
  private readonly inkStdout: NodeJS.WriteStream;
  private mounting?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private lastDraw = 0;
  private ending?: Promise<void>;
  private ended = false;
  private announced = false;
  private restoreWrite?: () => void;
  private readonly onResize = () => {
    this.model.dirty = true;
  };
  private readonly onExit = () => this.release();

  constructor(
    private readonly out: TtyLike,
    opts: TreeOptions = {},
  ) {
    this.perPhase = opts.perPhase ?? 10;
    this.fps = opts.fps ?? 10;
    this.measure = opts.measure === true;
    const write = out.write as Write;
    this.realWrite = (text) => void write.call(out, text);
    const stdout = {
      isTTY: true,
      get columns() {
        return out.columns || 80;
      },
      get rows() {
        return out.rows || 24;
      },
      write: (chunk: unknown, ...rest: unknown[]) => write.call(out, chunk, ...rest),
      on: (event: "resize", listener: () => void) => {
        out.on?.(event, listener);
        return stdout;
      },
      off: (event: "resize", listener: () => void) => {
        out.off?.(event, listener);
        return stdout;
      },
    };
    this.inkStdout = stdout as unknown as NodeJS.WriteStream;
    // Start loading ink now: it takes a moment, and the run's first agents are on their way.
    this.viewModule = import("./view.js");
    this.viewModule.catch(() => {});
  }

  event(e: RunEvent): void {
    const t0 = this.measure ? process.cpuUsage() : undefined;
    if (this.ended) {
      // After the final frame (a warning about the run's artifacts, say): a plain line.
      if (e.type === "warning") this.realWrite(`${block("! ", e.message)}\n`);
      return;
    }
    this.model.apply(e);
    // R01: `run <id>` is the first line, at once (ink takes a moment to load); warnings that came
    // before it were held until now.
    if (e.type === "run.started" && !this.view && !this.announced) {
      this.announced = true;
      this.realWrite(`run ${one(e.runId)}${e.resumed ? " (resumed)" : ""}\n`);
    }
    if (this.hidden && e.type === "gate.answered" && this.model.gates.size === 0) {
      this.hidden = false;
      this.show();
    }
    if (this.announced && !this.view && !this.hidden) {
      const lines = this.model.drain();
      if (lines.length) this.realWrite(`${lines.join("\n")}\n`);
    }
    if (!this.mounting && e.type !== "warning") this.mounting = this.start();
    if (e.type === "run.finished") this.ending ??= this.finish();
    if (t0) this.addCpu(t0);
  }

  async close(): Promise<void> {
    this.ending ??= this.finish();
    await this.ending;
  }

  private addCpu(t0: NodeJS.CpuUsage): void {
    const d = process.cpuUsage(t0);
    this.stats.cpuMicros += d.user + d.system;
  }

  private async start(): Promise<void> {
    this.intercept();
    try {
      this.mod = await this.viewModule;
    } catch (e) {
      this.realWrite(
        `! the live tree is unavailable (${(e as Error).message}); progress follows at the end\n`,
      );
      return;
    }
    if (this.ended || this.hidden) return;
    this.show();
  }

  /**
   * Anything else written to the stream while the frame is up (driveRun's "stopping…", a Node
   * warning) would tear the frame: it goes above the frame instead. A write that does not end its
   * line is someone asking a person something (the gate prompt): the tree steps aside until no
   * gate waits. Installed at once, so that a prompt made while ink still loads is seen too.
   */
  private intercept(): void {
    const out = this.out;
    const realWrite = out.write as Write;
    const hadOwn = Object.hasOwn(out, "write");
    out.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");
      if (!text.endsWith("\n") && !this.ended) {
        this.hide();
        this.hidden = true;
      }
      if (this.view) this.view.above(text);
      else realWrite.call(out, chunk);
      const cb = rest.find((x) => typeof x === "function") as (() => void) | undefined;
      cb?.();
      return true;
    }) as TtyLike["write"];
    this.restoreWrite = () => {
      if (hadOwn) out.write = realWrite as TtyLike["write"];
      else delete (out as { write?: unknown }).write;
    };
    out.on?.("resize", this.onResize);
    // A second Ctrl-C exits at once: print what is pending and give the stream back first.
    process.on("exit", this.onExit);
  }

  /** Mount a live frame (again, after a prompt) under what is on the screen. */
  private show(): void {
    if (!this.mod || this.view) return;
    this.hidden = false;
    this.view = this.mod.mount(this.inkStdout, {
      maxFps: this.fps,
      onRender: (ms) => {
        this.stats.renders++;
        this.stats.renderMs += ms;
      },
    });
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.round(1000 / this.fps)));
    this.timer.unref();
    this.tick();
  }

  /**
   * Leave the last frame as it is and stop drawing until the gate is answered: a prompt and the
   * person's typing go below it, untouched.
   */
  private hide(): void {
    const view = this.view;
    if (!view) return;
    this.tick(true);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.view = undefined;
    this.hidden = true;
    void view.unmount();
  }

  /** Print the pending lines and, when something changed (or a second passed), a new frame. */
  private tick(force = false): void {
    const view = this.view;
    if (!view) return;
    const t0 = this.measure ? process.cpuUsage() : undefined;
    const lines = this.model.drain();
    if (lines.length) view.above(`${lines.join("\n")}\n`);
    const now = Date.now();
    if (force || this.model.dirty || now - this.lastDraw >= 1000) {
      this.model.dirty = false;
      this.lastDraw = now;
      this.stats.frames++;
      view.draw(this.currentFrame(now));
    }
    if (t0) this.addCpu(t0);
  }

  private currentFrame(now: number): Line[] {
    return frame(this.model, {
      rows: this.out.rows || 24,
      columns: this.out.columns || 80,
      now,
      perPhase: this.perPhase,
    });
  }

  /** Stop drawing and give the stream back (also on process exit). */
  private release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const view = this.view;
    if (view) {
      const lines = this.model.drain();
      if (lines.length) view.above(`${lines.join("\n")}\n`);
    }
    this.restoreWrite?.();
    this.restoreWrite = undefined;
    this.out.off?.("resize", this.onResize);
    process.off("exit", this.onExit);
  }

  private async finish(): Promise<void> {
    // Only warnings came (nothing ran): no tree to show.
    if (this.mounting) await this.mounting;
    if (this.hidden) {
      this.hidden = false;
      this.show();
    }
    const view = this.view;
    if (view) {
      this.tick(true);
      this.release();
      await view.unmount();
      this.view = undefined;
    } else {
      // No tree (ink failed to load, or nothing but warnings came): the lines as they are.
      this.release();
      const lines = this.model.drain();
      if (lines.length) this.realWrite(`${lines.join("\n")}\n`);
    }
    this.ended = true;
    const f = this.model.finished;
    if (f) {
      const text = endLines(f.runId, f.summary, f.error, this.model.run.limits);
      this.realWrite(`${text.join("\n")}\n`);
    }
  }
}

export function createTreeReporter(out: TtyLike, opts: TreeOptions = {}): TreeReporter {
  return new TreeReporter(out, opts);
}
