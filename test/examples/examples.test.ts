/**
 * The examples run as the README says: each `npm run example:*` command, as a child process, against this run's
 * servers (`DUALWRITE_SOURCE_URL` / `DUALWRITE_TARGET_URL`). Each must exit 0 and print its `OK:` summary; the
 * examples check their own outcome with the independent row comparison, so a divergence fails them.
 * One of them also runs the way it does on a fresh machine: no URLs, two private servers of its own.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testServers } from '../support/databases.js';
import { canSpawnServers } from '../support/servers.js';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
/** Far above what each example takes (5–15 s): a hung example fails here instead of at the test timeout. */
const EXAMPLE_TIMEOUT_MS = 50_000;

interface Run {
  readonly code: number | null;
  readonly output: string;
}

/** `npm run <script>` with `env` added; kills the whole process group if it runs past the timeout. */
function npmRun(script: string, env: Record<string, string | undefined>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', script], { cwd: REPOSITORY, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`npm run ${script} did not finish within ${EXAMPLE_TIMEOUT_MS} ms:\n${output}`));
    }, EXAMPLE_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function withServers(): Record<string, string> {
  const { sourceUrl, targetUrl } = testServers();
  return { DUALWRITE_SOURCE_URL: sourceUrl, DUALWRITE_TARGET_URL: targetUrl };
}

function expectOk(run: Run, summary: RegExp): void {
  expect(run.output, run.output).not.toMatch(/NOT OK/);
  expect(run.output, run.output).toMatch(summary);
  expect(run.code, run.output).toBe(0);
}

describe('the examples (npm run example:*)', () => {
  it('example:orders — the Express service under traffic through four switches, then identical sides and every returned id on both', { timeout: 60_000 }, async () => {
    const run = await npmRun('example:orders', withServers());
    expectOk(run, /^OK: \d+ requests through source_only → source_first → target_first → source_first; source and target identical \(\d+ orders, \d+ items\); all \d+ live order ids the service returned are on both sides\.$/m);
    expect(run.output).toMatch(/^ {2}requests +\d+: [1-9]\d* orders created, .*; 0 unexpected answers$/m);
    expect(run.output).toMatch(/replay failures 0; refused 0$/m);
  });

  it('example:knex — migrations, ids, a transaction with a savepoint, a switch, identical sides', { timeout: 60_000 }, async () => {
    expectOk(await npmRun('example:knex', withServers()), /^OK: Knex migrated both sides, wrote through source_first and target_first, and both sides are identical\.$/m);
  });

  it('example:typeorm — the same with TypeORM', { timeout: 60_000 }, async () => {
    expectOk(await npmRun('example:typeorm', withServers()), /^OK: TypeORM migrated both sides, wrote through source_first and target_first, and both sides are identical\.$/m);
  });

  it('example:sequelize — the same with Sequelize', { timeout: 60_000 }, async () => {
    expectOk(await npmRun('example:sequelize', withServers()), /^OK: Sequelize synced both sides, wrote through source_first and target_first, and both sides are identical\.$/m);
  });

  it.skipIf(!canSpawnServers())('example:knex on a fresh machine: no URLs, two private servers of its own', { timeout: 60_000 }, async () => {
    const run = await npmRun('example:knex', { DUALWRITE_SOURCE_URL: undefined, DUALWRITE_TARGET_URL: undefined });
    expect(run.output).toMatch(/^servers +two private servers/m);
    expectOk(run, /^OK: Knex migrated both sides/m);
  });
});
