/**
 * The SOURCE and TARGET servers the demo and the benchmarks run against: `DUALWRITE_SOURCE_URL` and
 * `DUALWRITE_TARGET_URL` (mysql:// URLs, no database in the path) when both are set, else two private
 * MariaDB/MySQL server processes started with the test harness (servers.ts) and stopped by `close()`.
 */
import { prepareTemplate, redactUrl, removeTemplate, spawnServer, waitUntilReady, type SpawnedServer } from './servers.js';

/** Env var naming the SOURCE server (no database in the path). */
export const SOURCE_URL_ENV = 'DUALWRITE_SOURCE_URL';
/** Env var naming the TARGET server (no database in the path). */
export const TARGET_URL_ENV = 'DUALWRITE_TARGET_URL';

/** Two servers and how to let go of them. */
export interface DevServers {
  readonly sourceUrl: string;
  readonly targetUrl: string;
  /** One line saying where the servers come from. */
  readonly description: string;
  /** Stops spawned servers (no-op for servers from the environment). */
  close(): Promise<void>;
}

/**
 * Finds or starts the two servers.
 *
 * @param label - names the spawned servers' directories (`<label>-source`, `<label>-target`)
 */
export async function devServers(label: string): Promise<DevServers> {
  const sourceEnv = process.env[SOURCE_URL_ENV];
  const targetEnv = process.env[TARGET_URL_ENV];
  if (sourceEnv || targetEnv) {
    if (!sourceEnv || !targetEnv) throw new Error(`Set both ${SOURCE_URL_ENV} and ${TARGET_URL_ENV}, or neither to start two private servers.`);
    await Promise.all([waitUntilReady(sourceEnv, 30_000), waitUntilReady(targetEnv, 30_000)]);
    return {
      sourceUrl: sourceEnv,
      targetUrl: targetEnv,
      description: `servers from the environment: source ${redactUrl(sourceEnv)}, target ${redactUrl(targetEnv)}`,
      close: () => Promise.resolve(),
    };
  }
  const template = await prepareTemplate();
  let source: SpawnedServer | undefined;
  let target: SpawnedServer | undefined;
  try {
    [source, target] = await Promise.all([
      spawnServer({ name: `${label}-source`, serverId: 1, templateDir: template }),
      spawnServer({ name: `${label}-target`, serverId: 2, templateDir: template }),
    ]);
  } catch (error) {
    await Promise.allSettled([source?.destroy(), target?.destroy(), removeTemplate(template)]);
    throw error;
  }
  const started = [source, target];
  return {
    sourceUrl: source.url,
    targetUrl: target.url,
    description: `two private servers (${source.binary.version.replace(/\s+/g, ' ')}): source :${source.port}, target :${target.port}`,
    close: async () => {
      await Promise.allSettled(started.map((server) => server.destroy()));
      await removeTemplate(template);
    },
  };
}
