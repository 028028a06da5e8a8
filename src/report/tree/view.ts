/**
 * The ink side of the tree: lines of segments as <Text> rows, mounted with the settings that
 * leave the terminal to the process (no stdin, no Ctrl-C handling, console untouched).
 * Loaded on demand: ink and react cost a few hundred ms to import, which plain and JSON runs skip.
 */
import { PassThrough } from "node:stream";
import { Box, type Instance, render, Text, useStderr } from "ink";
import { createElement as h, type ReactNode } from "react";
import type { Line } from "./frame.js";

function Row({ line }: { line: Line }): ReactNode {
  return h(
    Text,
    { wrap: "truncate-end" },
    ...line.map((s, i) =>
      h(Text, { key: i, color: s.color, bold: s.bold, dimColor: s.dim }, s.text === "" ? " " : s.text),
    ),
  );
}

/** Hands ink's own "write above the frame" function to the reporter. */
function Bridge({ onWrite }: { onWrite: (write: (text: string) => void) => void }): ReactNode {
  const { write } = useStderr();
  onWrite(write);
  return null;
}

function Tree({
  lines,
  onWrite,
}: {
  lines: Line[];
  onWrite: (w: (text: string) => void) => void;
}): ReactNode {
  return h(
    Box,
    { flexDirection: "column" },
    h(Bridge, { onWrite }),
    ...lines.map((line, i) => h(Row, { key: i, line })),
  );
}

export interface Mounted {
  draw(lines: Line[]): void;
  /** Print text above the frame; the frame is drawn again under it. */
  above(text: string): void;
  /** Draw the last frame for good and give the terminal back. */
  unmount(): Promise<void>;
}

export function mount(
  stdout: NodeJS.WriteStream,
  opts: { maxFps: number; onRender?: (ms: number) => void },
): Mounted {
  let write: ((text: string) => void) | undefined;
  const onWrite = (w: (text: string) => void) => {
    write = w;
  };
  const instance: Instance = render(h(Tree, { lines: [], onWrite }), {
    stdout,
    stderr: stdout,
    // Ink never reads its stdin unless asked (no useInput here); a stream of its own makes sure it
    // cannot put the terminal in raw mode, so Ctrl-C stays a SIGINT for the process's handler (C04).
    stdin: new PassThrough() as unknown as NodeJS.ReadStream,
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: opts.maxFps,
    onRender: opts.onRender && ((m) => opts.onRender?.(m.renderTime)),
  });
  return {
    draw: (lines) => instance.rerender(h(Tree, { lines, onWrite })),
    above: (text) => (write ? write(text) : stdout.write(text)),
    unmount: async () => {
      const exited = instance.waitUntilExit();
      instance.unmount();
      await exited;
    },
  };
}
