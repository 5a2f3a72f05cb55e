/**
 * The fleet part of `dualwrite status` and `dualwrite mode get`: the Redis connection options, and every
 * instance's applied mode, revision, staleness, replay failures, unrecorded failures and lag (the age of
 * its last heartbeat), from the acknowledgements in Redis.
 *
 * @module
 */
import type { OptionSpec, ParsedOptions } from '../args.js';
import { UsageError } from '../args.js';
import { CliError, redact } from '../connection.js';
import type { Output } from '../output.js';
import { RedisModeController, type SwitchReport } from '../../mode/redis-mode-controller.js';
import type { InstanceAck } from '../../mode/redis-flag-provider.js';
import { DEFAULT_REDIS_FLAG_KEY } from '../../mode/redis-client.js';

/** `--redis` and `--key`, shared by `status` and `mode`. */
export const REDIS_OPTIONS: readonly OptionSpec[] = [
  { name: 'redis', type: 'string', placeholder: 'URL', configKey: 'redis', description: 'Redis holding the flags, redis://[user:password@]host:port[/db]' },
  { name: 'key', type: 'string', placeholder: 'KEY', configKey: 'redisKey', description: `the flag key in Redis (default: ${DEFAULT_REDIS_FLAG_KEY})` },
];

/**
 * A controller on `--redis` (undefined when it is not given). Connection attempts are not retried, so an
 * unreachable Redis fails the command with one line instead of hanging.
 *
 * @throws {@link UsageError} when the URL is not a redis:// URL
 */
export function openController(options: ParsedOptions, command: string): RedisModeController | undefined {
  const given = options.string('redis');
  if (given === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new UsageError(`--redis is not a URL (${JSON.stringify(redact(given))}): write it as redis://host:6379 or redis://user:password@host:6379/0`, command);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new UsageError(`--redis must be a redis:// URL, got ${url.protocol}//…: write it as redis://host:6379`, command);
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new UsageError(`--redis names database ${JSON.stringify(db)}: Redis databases are numbers, e.g. redis://host:6379/0`, command);
  const connection: Record<string, unknown> = {
    host: url.hostname,
    port: url.port === '' ? 6379 : Number(url.port),
    connectTimeout: 5000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null, // fail at once: a command line must not hang on an unreachable Redis
  };
  if (url.username !== '') connection.username = decodeURIComponent(url.username);
  if (url.password !== '') connection.password = decodeURIComponent(url.password);
  if (db !== '') connection.db = Number(db);
  if (url.protocol === 'rediss:') connection.tls = {};
  return new RedisModeController({ connection, key: options.string('key') ?? DEFAULT_REDIS_FLAG_KEY });
}

/** Runs `action` on the controller, turning a Redis connection failure into one clear line. */
export async function withRedis<T>(options: ParsedOptions, controller: RedisModeController, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    const cause = controller.connectionError;
    const message = `${error instanceof Error ? error.message : String(error)}${cause === undefined ? '' : `: ${cause.message}`}`;
    if (/Connection is closed|ECONNREFUSED|ENOTFOUND|ETIMEDOUT|connect|NOAUTH|WRONGPASS/i.test(message) && !(error as { code?: unknown }).code?.toString().startsWith('ER_DUALWRITE')) {
      throw new CliError('ER_DUALWRITE_CLI_REDIS', `cannot use Redis at ${redact(options.string('redis') ?? '')} (${message}): check the host, port and password in --redis and that Redis is running`, { cause: error });
    }
    throw error;
  }
}

/** How far behind an instance's last heartbeat is, as text. */
function age(ms: number): string {
  return ms < 1000 ? `${Math.max(0, Math.round(ms))} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** One line about an instance. */
export function instanceLine(ack: InstanceAck, now: number, state: 'applied' | 'pending'): string {
  const counters = ack.counters;
  const failures = counters === undefined ? 'no counters (not tracked with a pool, or an older version)' : `replay failures source ${counters.replayFailures.source} / target ${counters.replayFailures.target}, unrecorded ${counters.unrecordedFailures}`;
  return `${ack.instanceId}: ${state}, ${ack.mode} at revision ${ack.revision}${ack.stale ? ' (STALE: cut off from Redis)' : ''}, heartbeat ${age(now - ack.heartbeatAt)} ago, ${failures}`;
}

/** Prints the fleet of a status report (lines, and `instance` JSON events). */
export function printFleet(output: Output, report: SwitchReport, now: number): void {
  const total = report.applied.length + report.pending.length;
  output.print(`fleet: ${total} live instance(s), ${report.applied.length} applied revision ${report.revision} (${report.mode}), ${report.pending.length} pending${report.lost.length === 0 ? '' : `, ${report.lost.length} lost`}`);
  for (const [state, acks] of [['applied', report.applied], ['pending', report.pending]] as const) {
    for (const ack of acks) {
      output.print(`  ${instanceLine(ack, now, state)}`);
      output.event('instance', { state, ...ack, lagMs: now - ack.heartbeatAt });
    }
  }
  for (const id of report.lost) {
    output.print(`  ${id}: lost (its acknowledgement expired: dead, or cut off from Redis)`);
    output.event('instance', { state: 'lost', instanceId: id });
  }
}
