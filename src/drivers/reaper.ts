/**
 * Agents die with the weft that started them (SPEC R02), however it died: kill -9, the OOM
 * killer, a crash. Nothing in the dying process can act then, so a second process watches it: one
 * small `sh` per weft process, started with the first agent, holding the read end of a pipe whose
 * only write end is weft's (libuv opens its pipes close-on-exec, so no agent inherits it). weft
 * writes `+<pgid>` when an agent's group starts and `-<pgid>` when it is over; when weft dies the
 * kernel closes the write end, the reaper reads end of file, sends SIGTERM to every group still
 * listed, SIGKILL two seconds later, and exits.
 *
 * Why not PR_SET_PDEATHSIG (`setpriv --pdeathsig`): it reaches only the direct child, so a
 * `sh -c` command's own children, or a CLI's tool processes, would live on; and it is Linux only.
 * The reaper is POSIX sh and works wherever process groups do. It ignores the terminal's signals
 * (its own process group, and INT/HUP/TERM/QUIT trapped) so Ctrl-C or a closed terminal reaches
 * weft, which stops its agents itself, and never the watcher first.
 */
import { type ChildProcess, spawn } from "node:child_process";

const SCRIPT = `trap '' INT HUP TERM QUIT PIPE
groups=" "
while IFS= read -r line; do
  case "$line" in
    +*) groups="$groups\${line#+} " ;;
    -*) g="\${line#-}"
        case "$groups" in *" $g "*) groups="\${groups% $g *} \${groups#* $g }" ;; esac ;;
  esac
done
[ "$groups" = " " ] && exit 0
for g in $groups; do kill -TERM -"$g" 2>/dev/null; done
sleep 2
for g in $groups; do kill -KILL -"$g" 2>/dev/null; done
`;

let reaper: ChildProcess | undefined;
const watched = new Set<number>();

function start(): ChildProcess | undefined {
  let child: ChildProcess;
  try {
    child = spawn("/bin/sh", ["-c", SCRIPT], { detached: true, stdio: ["pipe", "ignore", "ignore"] });
  } catch {
    return undefined;
  }
  // The watcher must never keep weft alive, nor its pipe's errors take weft down.
  child.unref();
  child.on("error", () => {});
  const stdin = child.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null;
  stdin?.on("error", () => {});
  stdin?.unref?.();
  child.once("exit", () => {
    if (reaper === child) reaper = undefined;
  });
  // A restarted watcher learns the groups its predecessor was watching.
  if (watched.size > 0) child.stdin?.write([...watched].map((g) => `+${g}\n`).join(""));
  return child;
}

function send(line: string): void {
  if (process.platform === "win32") return;
  reaper ??= start();
  reaper?.stdin?.write(line);
}

/** An agent's process group started: kill it if weft dies before `unwatchGroup`. */
export function watchGroup(pgid: number): void {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) return;
  watched.add(pgid);
  send(`+${pgid}\n`);
}

/** The group is over (its leader was reaped and its members ended or were killed). */
export function unwatchGroup(pgid: number): void {
  if (!watched.delete(pgid)) return;
  send(`-${pgid}\n`);
}

/** The watcher's pid, for tests. */
export function reaperPid(): number | undefined {
  return reaper?.pid;
}
