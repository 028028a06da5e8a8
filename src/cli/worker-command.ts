/** `weft worker` (X01): serve agent tasks from a BullMQ queue on Redis until Ctrl-C. */
import { resolve } from "node:path";
import { UsageError } from "../api/errors.js";
import { EXIT } from "./exit-codes.js";

export interface WorkerFlags {
  redis?: string;
  concurrency?: string;
  driver?: string[];
  command?: string;
  queueName?: string;
  workdir?: string;
  lockMs?: string;
}

export async function workerCommand(flags: WorkerFlags): Promise<number> {
  if (!flags.redis)
    throw new UsageError("weft worker needs --redis <url> (redis://[user:password@]host:port[/db])");
  const concurrency = flags.concurrency === undefined ? 4 : Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new UsageError(
      `--concurrency must be a positive integer, got ${JSON.stringify(flags.concurrency)}`,
    );
  }
  // The queue's modules load only for `weft worker` and `--queue` (X01).
  const { startWorker } = await import("../executor/queue/worker.js");
  const { redisOptions, shownUrl, DEFAULT_QUEUE } = await import("../executor/queue/names.js");
  try {
    redisOptions(flags.redis);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const lockMs = flags.lockMs === undefined ? undefined : Number(flags.lockMs);
  if (lockMs !== undefined && (!Number.isInteger(lockMs) || lockMs < 1000)) {
    throw new UsageError(
      `--lock-ms must be a whole number of milliseconds >= 1000, got ${JSON.stringify(flags.lockMs)}`,
    );
  }
  const workdir = resolve(flags.workdir ?? ".weft-worker");
  const queueName = flags.queueName ?? DEFAULT_QUEUE;
  const log = (line: string) => process.stderr.write(`weft worker: ${line}\n`);
  let worker: Awaited<ReturnType<typeof startWorker>>;
  try {
    worker = await startWorker({
      redis: flags.redis,
      queueName,
      concurrency,
      drivers: flags.driver?.length ? flags.driver : undefined,
      command: flags.command,
      workdir,
      lockMs,
      log,
    });
  } catch (e) {
    throw new UsageError(`cannot serve ${shownUrl(flags.redis)}: ${(e as Error).message}`);
  }
  log(
    `serving queue "${queueName}" on ${shownUrl(flags.redis)}: up to ${concurrency} agents at once, drivers ${worker.served.join(", ")}, work in ${workdir}`,
  );
  // First Ctrl-C: take nothing new, let running tasks finish. A second: hand them back now.
  let signals = 0;
  await new Promise<void>((done) => {
    const stop = () => {
      signals++;
      if (signals === 1) {
        log("stopping: running tasks finish (Ctrl-C again hands them back to the queue)");
        void worker.close(false).then(done);
      } else {
        log("handing running tasks back to the queue");
        void worker.close(true).then(done);
      }
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    process.on("SIGHUP", stop);
  });
  log("stopped");
  return EXIT.completed;
}
