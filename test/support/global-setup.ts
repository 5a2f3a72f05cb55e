/**
 * vitest globalSetup: finds a SOURCE and a TARGET server (two separate server
 * processes) and hands their URLs to the tests (`inject('sourceUrl')`, see
 * ./databases.ts `testServers()`). Routes, in order:
 *
 * 1. `DUALWRITE_TEST_SOURCE_URL` and `DUALWRITE_TEST_TARGET_URL` (mysql:// URLs), when both are set;
 * 2. a local `mariadbd`/`mysqld`: two private servers spawned by ./servers.ts;
 * 3. a Docker engine: two `mariadb:11` containers through testcontainers;
 * 4. otherwise it fails at once, saying how to get a server.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'mysql2/promise';
import type { TestProject } from 'vitest/node';
import type { ServerRoute } from './provided.js';
import { canSpawnServers, prepareTemplate, redactUrl, removeTemplate, spawnServer, TEMPLATE_ENV, waitUntilReady, type SpawnedServer } from './servers.js';

/** Env var naming the SOURCE server of an externally provided pair. */
export const SOURCE_URL_ENV = 'DUALWRITE_TEST_SOURCE_URL';
/** Env var naming the TARGET server of an externally provided pair. */
export const TARGET_URL_ENV = 'DUALWRITE_TEST_TARGET_URL';

interface Servers {
  route: ServerRoute;
  sourceUrl: string;
  targetUrl: string;
  templateDatadir: string | null;
  teardown: () => Promise<void>;
}

/** vitest globalSetup entry: provides the servers, returns their teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const servers = await findServers();
  project.provide('sourceUrl', servers.sourceUrl);
  project.provide('targetUrl', servers.targetUrl);
  project.provide('serverRoute', servers.route);
  project.provide('templateDatadir', servers.templateDatadir);
  if (servers.templateDatadir) process.env[TEMPLATE_ENV] = servers.templateDatadir;
  console.log(`[dualwrite tests] servers via ${servers.route}: source ${redactUrl(servers.sourceUrl)}  target ${redactUrl(servers.targetUrl)}`);
  return servers.teardown;
}

async function findServers(): Promise<Servers> {
  const sourceEnv = process.env[SOURCE_URL_ENV];
  const targetEnv = process.env[TARGET_URL_ENV];
  if (sourceEnv || targetEnv) {
    if (!sourceEnv || !targetEnv) {
      throw new Error(`Set both ${SOURCE_URL_ENV} and ${TARGET_URL_ENV} (two different servers), or neither to let the tests start their own.`);
    }
    return fromEnv(sourceEnv, targetEnv);
  }
  if (canSpawnServers()) return spawnLocal();
  if (await dockerEngineAnswers()) return startContainers();
  throw new Error(
    'The tests need two MariaDB/MySQL servers and found no way to get them:\n' +
      '  - no mariadbd/mysqld in PATH, /usr/sbin, /usr/local/sbin or /usr/local/mysql/bin\n' +
      '    → install one: `apt-get install mariadb-server` (Debian/Ubuntu) or `brew install mariadb` (macOS);\n' +
      '  - no Docker engine answered `docker info`\n' +
      '    → start Docker (the tests then run two mariadb:11 containers);\n' +
      `  - ${SOURCE_URL_ENV} / ${TARGET_URL_ENV} are not set\n` +
      '    → point them at two servers you run: mysql://root@127.0.0.1:3307/ and mysql://root@127.0.0.1:3308/ (root with CREATE/DROP DATABASE rights).',
  );
}

async function fromEnv(sourceUrl: string, targetUrl: string): Promise<Servers> {
  await Promise.all([waitUntilReady(sourceUrl, 30_000), waitUntilReady(targetUrl, 30_000)]);
  const [source, target] = await Promise.all([identify(sourceUrl), identify(targetUrl)]);
  if (source === target) {
    throw new Error(
      `${SOURCE_URL_ENV} and ${TARGET_URL_ENV} reach the same server (${source}). ` +
        'Dual-write tests need two separate server processes; start a second one.',
    );
  }
  return { route: 'env', sourceUrl, targetUrl, templateDatadir: null, teardown: () => Promise.resolve() };
}

/** A fingerprint of the server process behind `url`. */
async function identify(url: string): Promise<string> {
  const connection = await createConnection({ uri: url });
  try {
    const [rows] = await connection.query('SELECT @@hostname AS h, @@port AS p, @@datadir AS d, @@server_id AS s');
    return JSON.stringify(rows);
  } finally {
    await connection.end();
  }
}

async function spawnLocal(): Promise<Servers> {
  const templateDatadir = await prepareTemplate();
  let source: SpawnedServer | undefined;
  let target: SpawnedServer | undefined;
  try {
    [source, target] = await Promise.all([
      spawnServer({ name: 'source', serverId: 1, templateDir: templateDatadir }),
      spawnServer({ name: 'target', serverId: 2, templateDir: templateDatadir }),
    ]);
  } catch (error) {
    await Promise.allSettled([source?.destroy(), target?.destroy(), removeTemplate(templateDatadir)]);
    throw error;
  }
  const started = [source, target] as const;
  return {
    route: 'spawned',
    sourceUrl: source.url,
    targetUrl: target.url,
    templateDatadir,
    teardown: async () => {
      await Promise.allSettled(started.map((server) => server.destroy()));
      await removeTemplate(templateDatadir);
    },
  };
}

/** True when a Docker engine answers (`docker info` within 5 s), or a socket is there for testcontainers to try. */
async function dockerEngineAnswers(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5000 }, (error) => {
      if (!error) return resolve(true);
      const cliMissing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      resolve(cliMissing && (Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock')));
    });
  });
}

async function startContainers(): Promise<Servers> {
  // Loaded only now: a machine without Docker never loads testcontainers.
  const { GenericContainer, Wait } = await import('testcontainers');
  const start = (serverId: number) =>
    new GenericContainer('mariadb:11')
      .withEnvironment({ MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1' })
      .withExposedPorts(3306)
      .withCommand([
        '--log-bin=mysql-bin',
        '--binlog-format=ROW',
        `--server-id=${serverId}`,
        '--max-connections=500',
        '--innodb-flush-log-at-trx-commit=2',
        '--sync-binlog=0',
        '--skip-name-resolve',
      ])
      // The image's init runs a temporary server without networking ("port: 0") first.
      .withWaitStrategy(Wait.forLogMessage(/port: 3306/))
      .withStartupTimeout(180_000)
      .start();
  const results = await Promise.allSettled([start(1), start(2)]);
  const containers = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.allSettled(containers.map((container) => container.stop()));
    throw new Error(`Docker answered but the mariadb:11 containers did not start: ${String(failed.reason)}`, { cause: failed.reason });
  }
  const [source, target] = containers;
  if (!source || !target) throw new Error('unreachable: two containers expected');
  const url = (container: typeof source): string => `mysql://root@${container.getHost()}:${container.getMappedPort(3306)}/`;
  const sourceUrl = url(source);
  const targetUrl = url(target);
  await Promise.all([waitUntilReady(sourceUrl), waitUntilReady(targetUrl)]);
  return {
    route: 'docker',
    sourceUrl,
    targetUrl,
    templateDatadir: null,
    teardown: async () => {
      await Promise.allSettled(containers.map((container) => container.stop()));
    },
  };
}
