/**
 * FileFlagProvider on real files in a temporary directory: in-place writes, atomic replacement (write a temporary
 * file, rename it over the flag file), a ConfigMap-style symlink swap, and invalid content.
 */
import { mkdtemp, rename, rm, symlink, writeFile, mkdir, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FlagLoadError, FlagsNotReadyError, InvalidModeError, InvalidOptionError } from '../../src/errors.js';
import type { FlagState } from '../../src/mode/flag-provider.js';
import { FileFlagProvider, type FileFlagProviderOptions } from '../../src/mode/file-flag-provider.js';
import { until } from '../pool/helpers.js';

const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dw-flags-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function provider(options: FileFlagProviderOptions): FileFlagProvider {
  const p = new FileFlagProvider(options);
  cleanup.push(() => p.close());
  return p;
}

describe('FileFlagProvider', () => {
  it('loads the file in start(), and refuses a missing file unless `initial` is given', async () => {
    const dir = await tempDir();
    const path = join(dir, 'flags.json');
    const missing = provider({ path });
    expect(() => missing.current()).toThrow(FlagsNotReadyError);
    await expect(missing.start()).rejects.toThrow(FlagLoadError);
    const fallback = provider({ path, initial: 'source_only' });
    await fallback.start();
    expect(fallback.current()).toMatchObject({ mode: 'source_only', version: 0 });
    expect(fallback.lastError).toBeInstanceOf(FlagLoadError);

    await writeFile(path, JSON.stringify({ mode: 'source_first', source: 'configmap', futureSetting: true }));
    const loaded = provider({ path });
    await loaded.start();
    expect(loaded.current()).toMatchObject({ mode: 'source_first', version: 0, source: 'configmap' });
    expect(() => new FileFlagProvider({ path: '' })).toThrow(InvalidOptionError);
  });

  it('sees a write in place and an atomic replacement', async () => {
    const dir = await tempDir();
    const path = join(dir, 'flags.json');
    await writeFile(path, '{"mode":"source_only"}');
    const p = provider({ path, intervalMs: 100 });
    await p.start();
    const changes: Array<[string, string, number]> = [];
    p.subscribe((next, previous) => changes.push([previous.mode, next.mode, next.version]));

    await writeFile(path, '{"mode":"source_first"}');
    await until(() => p.current().mode === 'source_first', 'the in-place write');
    await writeFile(join(dir, 'flags.json.tmp'), '{"mode":"target_first"}');
    await rename(join(dir, 'flags.json.tmp'), path);
    await until(() => p.current().mode === 'target_first', 'the atomic replacement');
    expect(changes).toEqual([
      ['source_only', 'source_first', 1],
      ['source_first', 'target_first', 2],
    ]);
    expect(p.current().source).toBe(`file:${path}`);
  });

  it('follows a ConfigMap-style symlink swap', async () => {
    const dir = await tempDir();
    // Kubernetes layout: flags.json -> ..data/flags.json, ..data -> ..v1; an update creates ..v2 and swaps ..data.
    await mkdir(join(dir, '..v1'));
    await writeFile(join(dir, '..v1', 'flags.json'), '{"mode":"source_first"}');
    await symlink('..v1', join(dir, '..data'));
    await symlink(join('..data', 'flags.json'), join(dir, 'flags.json'));
    const p = provider({ path: join(dir, 'flags.json'), intervalMs: 100 });
    await p.start();
    await mkdir(join(dir, '..v2'));
    await writeFile(join(dir, '..v2', 'flags.json'), '{"mode":"target_first"}');
    await symlink('..v2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await until(() => p.current().mode === 'target_first', 'the symlink swap');
  });

  it('keeps the last good state on invalid or missing content, and reports it', async () => {
    const dir = await tempDir();
    const path = join(dir, 'flags.json');
    await writeFile(path, '{"mode":"source_first"}');
    const errors: Error[] = [];
    const p = provider({ path, intervalMs: 50, onError: (error) => errors.push(error) });
    await p.start();
    const changes: FlagState[] = [];
    p.subscribe((next) => changes.push(next));

    await writeFile(path, '{"mode": "source_first"');
    await until(() => errors.length > 0, 'the error report');
    expect(errors[0]).toBeInstanceOf(InvalidModeError);
    expect(p.current().mode).toBe('source_first');
    await writeFile(path, '{"mode":"target-first"}');
    await until(() => errors.some((error) => error.message.includes('"target-first"')), 'the invalid mode report');
    await unlink(path);
    await until(() => errors.some((error) => error instanceof FlagLoadError), 'the missing file report');
    expect(p.current().mode).toBe('source_first');
    expect(changes).toEqual([]);

    await writeFile(path, '{"mode":"target_first"}');
    await until(() => p.current().mode === 'target_first', 'the next valid document');
    expect(p.lastError).toBeUndefined();
  });
  it('reads YAML files (by name, or format: yaml), follows their changes, keeps the last state on bad YAML, and takes a parser of your own', async () => {
    const dir = await tempDir();
    const path = join(dir, 'flags.yaml');
    await writeFile(path, '# the fleet\nmode: source_first\ntableModes:\n  shop.orders: target_first\nreadRouting:\n  shadowReadPercent: 1\n');
    const p = provider({ path, intervalMs: 100 });
    await p.start();
    expect(p.current()).toMatchObject({ mode: 'source_first', tableModes: { 'shop.orders': 'target_first' }, readRouting: { shadowReadPercent: 1 } });

    await writeFile(path, 'mode: target_first\n');
    await until(() => p.current().mode === 'target_first', 'the YAML change is read');
    expect(p.current().tableModes).toBeUndefined();

    await writeFile(path, 'mode: [unclosed\n');
    await until(() => p.lastError !== undefined, 'the bad YAML is reported');
    expect(p.lastError).toBeInstanceOf(InvalidModeError);
    expect(p.lastError?.message).toMatch(/not valid YAML/);
    expect(p.current().mode).toBe('target_first'); // the last good state stays

    const named = join(dir, 'flags.conf');
    await writeFile(named, 'mode: source_only\n');
    const explicit = provider({ path: named, format: 'yaml' });
    await explicit.start();
    expect(explicit.current().mode).toBe('source_only');
    const custom = provider({ path: named, format: (text) => ({ mode: text.split(':')[1]?.trim() }) });
    await custom.start();
    expect(custom.current().mode).toBe('source_only');
  });
});
