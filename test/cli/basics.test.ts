import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI, closedPort, expectOneLineError, jsonLines, runCli } from './helpers.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; bin: Record<string, string> };

describe('the built dualwrite command', () => {
  it('is an executable ESM file with a shebang, named by package.json "bin"', () => {
    expect(pkg.bin.dualwrite).toBe('./dist/cli.js');
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(CLI).mode & 0o111).not.toBe(0);
  });

  it('prints --version and --help (general and per command, with examples)', async () => {
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);
    expect((await runCli(['backfill', '--version'])).stdout.trim()).toBe(pkg.version);

    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['backfill', 'verify', 'status']) expect(help.stdout).toContain(`  ${command} `);
    expect(help.stdout).toMatch(/Exit codes: 0 .*1 .*2 .*130/);

    for (const command of ['backfill', 'verify', 'status']) {
      const own = await runCli([command, '--help']);
      expect(own.code).toBe(0);
      expect(own.stdout).toContain(`Usage: dualwrite ${command} [options]`);
      expect(own.stdout).toContain('Examples:');
      expect(own.stdout).toContain(`dualwrite ${command} --`);
    }
    const backfillHelp = (await runCli(['help', 'backfill'])).stdout;
    for (const option of ['--job', '--chunk-rows', '--chunk-target-ms', '--concurrency', '--no-create-tables', '--restart', '--max-threads-running', '--pause-file', '--dry-run', '--tables', '--json']) {
      expect(backfillHelp).toContain(option);
    }
  });

  it('refuses bad arguments with one line, exit code 2, and no stack trace', async () => {
    expect(expectOneLineError(await runCli(['bakfill']), /unknown command "bakfill" \(did you mean backfill\?\)/)).toBeTruthy();
    expectOneLineError(await runCli(['--tables', 'x', 'backfill']), /the command comes first/);
    expectOneLineError(await runCli(['backfill', '--chunk-row', '5']), /unknown option --chunk-row .*did you mean --chunk-rows/);
    expectOneLineError(await runCli(['backfill', '--chunk-rows', 'ten']), /--chunk-rows must be an integer/);
    expectOneLineError(await runCli(['backfill', '--chunk-rows']), /--chunk-rows needs a value/);
    expectOneLineError(await runCli(['backfill', '--chunk-rows', '5', '--chunk-target-ms', '100']), /exclude each other/);
    expectOneLineError(await runCli(['verify', 'orders']), /unexpected argument "orders"/);
    expectOneLineError(await runCli(['verify', '--dry-run']), /unknown option --dry-run for verify/);
    expectOneLineError(await runCli(['verify', '--target', 'mysql://root@127.0.0.1/db']), /no source database given: pass --source .*DUALWRITE_SOURCE_URL/);
    expectOneLineError(await runCli(['verify', '--source', 'postgres://x@h/db', '--target', 'mysql://root@h/db']), /--source must be a mysql:\/\/ URL/);
    expectOneLineError(await runCli(['verify', '--source', 'mysql://root:pw@h:3306/', '--target', 'mysql://root@h/db']), /names no database/);
    const hidden = await runCli(['verify', '--source', 'mysql://root:hunter2@h:3306/', '--target', 'mysql://root@h/db']);
    expect(hidden.stderr).not.toContain('hunter2');
  });

  it('reads a config file, refuses unknown keys in it, and falls back to the environment for URLs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dualwrite-cli-'));
    const port = await closedPort();
    const unreachable = `mysql://root@127.0.0.1:${port}/shop`;

    const typo = join(dir, 'typo.json');
    writeFileSync(typo, JSON.stringify({ source: unreachable, target: unreachable, chunkRow: 5 }));
    expectOneLineError(await runCli(['backfill', '--config', typo]), /unknown key "chunkRow" .*did you mean "chunkRows"/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "source": ');
    expectOneLineError(await runCli(['backfill', '--config', broken]), /is not valid JSON/);
    expectOneLineError(await runCli(['backfill', '--config', join(dir, 'absent.json')]), /cannot read the config file .*ENOENT/);

    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ source: unreachable, target: unreachable, tables: ['orders'], chunkRows: 10, createTables: false }));
    expectOneLineError(await runCli(['backfill', '--config', good]), new RegExp(`cannot connect to the source server mysql://root@127.0.0.1:${port}/shop .*ECONNREFUSED`));

    expectOneLineError(await runCli(['status'], { DUALWRITE_TARGET_URL: unreachable }), /cannot connect to the target server .*ECONNREFUSED.*check the host and port in --target/);
  });

  it('reports an unreachable server in one line (JSON error object with --json), no stack trace unless --debug', async () => {
    const port = await closedPort();
    const url = `mysql://root:secret@127.0.0.1:${port}/shop`;
    const run = await runCli(['verify', '--source', url, '--target', url]);
    const line = expectOneLineError(run, /cannot connect to the source server .*ECONNREFUSED/);
    expect(line).not.toContain('secret');

    const json = await runCli(['verify', '--source', url, '--target', url, '--json']);
    expectOneLineError(json, /cannot connect/);
    const [error] = jsonLines(json.stdout);
    expect(error).toMatchObject({ type: 'error', command: 'verify', code: 'ER_DUALWRITE_CLI_CONNECT' });

    const debug = await runCli(['verify', '--source', url, '--target', url, '--debug']);
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});
