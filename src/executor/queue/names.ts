/** What the driving process and the workers agree on (X01): queue name, job ids, the cancel channel. */
export const DEFAULT_QUEUE = "weft-agents";

/** One agent call of one run; agent numbers are unique within a run across executions (R01). */
export const jobIdOf = (runId: string, n: number) => `${runId}.${n}`;

/** Pub/sub channel on which `weft stop` and friends reach the worker running a job. */
export const cancelChannel = (queue: string) => `weft:${queue}:cancel`;

/** Connection options for ioredis from a redis:// or rediss:// URL (password and db included). */
export function redisOptions(url: string): Record<string, unknown> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`not a Redis URL: ${JSON.stringify(url)} (redis://[user:password@]host:port[/db])`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new Error(`not a Redis URL: ${JSON.stringify(url)} (redis:// or rediss://)`);
  }
  const db = u.pathname.replace(/^\//, "");
  return {
    host: u.hostname || "127.0.0.1",
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === "rediss:" ? { tls: {} } : {}),
    // BullMQ's workers need blocking commands that never give up on their own.
    maxRetriesPerRequest: null,
  };
}

/** The URL without its password, for messages. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}
