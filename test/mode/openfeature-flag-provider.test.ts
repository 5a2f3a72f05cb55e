/**
 * OpenFeatureFlagProvider driven by the OpenFeature server SDK's own InMemoryProvider (a real OpenFeature provider:
 * flag configuration, targeting by evaluation context, provider events), each test in its own OpenFeature domain.
 * The last test switches a real dual-write pool on the spawned servers through it.
 */
import { randomBytes } from 'node:crypto';
import { InMemoryProvider, OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FlagLoadError, FlagsNotReadyError, InvalidModeError, InvalidOptionError } from '../../src/errors.js';
import type { FlagState } from '../../src/mode/flag-provider.js';
import { OpenFeatureFlagProvider, type OpenFeatureClientLike, type OpenFeatureFlagProviderOptions } from '../../src/mode/openfeature-flag-provider.js';
import { createPool } from '../../src/index.js';
import { until } from '../pool/helpers.js';
import { createTestDatabases } from '../support/databases.js';

type FlagConfiguration = ConstructorParameters<typeof InMemoryProvider>[0];

const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

afterAll(async () => {
  await OpenFeature.close();
});

/** A string flag whose default variant is `mode` (any string, so invalid values can be served too). */
function modeFlag(mode: string, disabled = false): NonNullable<FlagConfiguration>[string] {
  return { variants: { current: mode }, defaultVariant: 'current', disabled };
}

/** A real InMemoryProvider registered under a fresh domain, and a client of that domain. */
async function openFeature(flags: FlagConfiguration): Promise<{ provider: InMemoryProvider; client: OpenFeatureClientLike; domain: string }> {
  const domain = `dualwrite-test-${randomBytes(4).toString('hex')}`;
  const provider = new InMemoryProvider(flags);
  await OpenFeature.setProviderAndWait(domain, provider);
  // The SDK's Client is passed as it is: it must fit OpenFeatureClientLike without a cast.
  const client: OpenFeatureClientLike = OpenFeature.getClient(domain);
  return { provider, client, domain };
}

function flagProvider(options: OpenFeatureFlagProviderOptions): OpenFeatureFlagProvider {
  const p = new OpenFeatureFlagProvider(options);
  cleanup.push(() => p.close());
  return p;
}

function recordChanges(p: OpenFeatureFlagProvider): FlagState[] {
  const changes: FlagState[] = [];
  p.subscribe((next) => changes.push(next));
  return changes;
}

describe('OpenFeatureFlagProvider', () => {
  it('evaluates the mode flag in start() and follows PROVIDER_CONFIGURATION_CHANGED', async () => {
    const { provider, client } = await openFeature({ 'dualwrite.mode': modeFlag('source_only') });
    const flags = flagProvider({ client });
    expect(() => flags.current()).toThrow(FlagsNotReadyError);
    await flags.start();
    const { updatedAt, ...first } = flags.current();
    expect(first).toEqual({ mode: 'source_only', version: 0, source: 'openfeature:dualwrite.mode', stale: false });
    expect(updatedAt).toBeGreaterThan(0);
    expect(Object.isFrozen(flags.current())).toBe(true);
    const changes = recordChanges(flags);

    provider.putConfiguration({ 'dualwrite.mode': modeFlag('source_first') });
    await until(() => changes.length === 1, 'the switch to source_first');
    expect(changes[0]).toMatchObject({ mode: 'source_first', version: 1 });
    expect(flags.current()).toBe(changes[0]);

    // The same value again, then an unrelated flag, then a real change: only the real change is a new version.
    provider.putConfiguration({ 'dualwrite.mode': modeFlag('source_first') });
    provider.putConfiguration({ 'dualwrite.mode': modeFlag('source_first'), 'other.flag': modeFlag('x') });
    provider.putConfiguration({ 'dualwrite.mode': modeFlag('target_first'), 'other.flag': modeFlag('x') });
    await until(() => flags.current().mode === 'target_first', 'the switch to target_first');
    expect(changes.map((state) => [state.mode, state.version])).toEqual([
      ['source_first', 1],
      ['target_first', 2],
    ]);
    expect(flags.lastError).toBeUndefined();
  });

  it('keeps the last good state on an invalid value, a missing flag or a disabled mode flag, and says why', async () => {
    const { provider, client } = await openFeature({ 'dualwrite.mode': modeFlag('source_first') });
    const errors: Error[] = [];
    const flags = flagProvider({ client, onError: (error) => errors.push(error) });
    await flags.start();
    const changes = recordChanges(flags);

    provider.putConfiguration({ 'dualwrite.mode': modeFlag('Source-First') });
    await until(() => errors.length === 1, 'the invalid value reported');
    expect(errors[0]).toBeInstanceOf(InvalidModeError);
    expect(errors[0]?.message).toContain('"Source-First"');
    expect(errors[0]?.message).toContain('the OpenFeature flag "dualwrite.mode"');

    provider.putConfiguration({ 'another.flag': modeFlag('source_only') });
    await until(() => errors.length === 2, 'the missing flag reported');
    expect(errors[1]).toBeInstanceOf(FlagLoadError);
    expect(errors[1]?.message).toContain('FLAG_NOT_FOUND');
    expect(errors[1]?.message).toContain('The mode in force (source_first, version 0) stays');

    provider.putConfiguration({ 'dualwrite.mode': modeFlag('target_first', true) });
    await until(() => errors.length === 3, 'the disabled flag reported');
    expect(errors[2]).toBeInstanceOf(InvalidModeError);
    expect(errors[2]?.message).toContain('disabled');
    expect(flags.current()).toMatchObject({ mode: 'source_first', version: 0 });
    expect(flags.lastError).toBe(errors[2]);

    provider.putConfiguration({ 'dualwrite.mode': modeFlag('target_first') });
    await until(() => changes.length === 1, 'the good value applied');
    expect(flags.current()).toMatchObject({ mode: 'target_first', version: 1 });
    expect(flags.lastError).toBeUndefined();
  });

  it('refuses to start without a mode unless `initial` is given; with it, follows the flag once it appears', async () => {
    const { provider, client } = await openFeature({});
    const strict = flagProvider({ client });
    await expect(strict.start()).rejects.toThrow(FlagLoadError);
    expect(() => strict.current()).toThrow(FlagsNotReadyError);

    const errors: Error[] = [];
    const lenient = flagProvider({ client, initial: 'source_only', onError: (error) => errors.push(error) });
    await lenient.start();
    expect(lenient.current()).toMatchObject({ mode: 'source_only', version: 0 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(FlagLoadError);

    provider.putConfiguration({ 'dualwrite.mode': modeFlag('source_first') });
    await until(() => lenient.current().mode === 'source_first', 'the flag once it exists');
    // start() may be called again after a failure: the strict provider now starts.
    await strict.start();
    expect(strict.current()).toMatchObject({ mode: 'source_first', version: 0 });
  });

  it('carries table modes (object flag) and the gray-read share (number flag), checked like the flag document', async () => {
    const { provider, client } = await openFeature({
      'dw.mode': modeFlag('source_first'),
      'dw.tables': { variants: { on: { 'shop.orders': 'target_first' } }, defaultVariant: 'on', disabled: false },
      'dw.gray': { variants: { five: 5 }, defaultVariant: 'five', disabled: false },
    });
    const errors: Error[] = [];
    const flags = flagProvider({ client, modeKey: 'dw.mode', tableModesKey: 'dw.tables', grayReadPercentKey: 'dw.gray', onError: (error) => errors.push(error) });
    await flags.start();
    expect(flags.current()).toMatchObject({ mode: 'source_first', tableModes: { 'shop.orders': 'target_first' }, readRouting: { grayReadPercent: 5 } });

    const base = { 'dw.mode': modeFlag('source_first'), 'dw.gray': { variants: { five: 5 }, defaultVariant: 'five', disabled: false } };
    provider.putConfiguration({ ...base, 'dw.tables': { variants: { on: { 'shop.orders': 'sideways' } }, defaultVariant: 'on', disabled: false } });
    await until(() => errors.length === 1, 'the invalid table mode reported');
    expect(errors[0]).toBeInstanceOf(InvalidModeError);
    expect(errors[0]?.message).toContain('"tableModes"."shop.orders"');
    provider.putConfiguration({ ...base, 'dw.gray': { variants: { many: 250 }, defaultVariant: 'many', disabled: false }, 'dw.tables': { variants: { on: {} }, defaultVariant: 'on', disabled: false } });
    await until(() => errors.length === 2, 'the out-of-range share reported');
    expect(errors[1]?.message).toContain('grayReadPercent');
    expect(flags.current()).toMatchObject({ version: 0, tableModes: { 'shop.orders': 'target_first' } });

    // A disabled table-modes flag means no overrides (a new state without tableModes).
    provider.putConfiguration({ ...base, 'dw.tables': { variants: { on: { 'shop.orders': 'target_first' } }, defaultVariant: 'on', disabled: true } });
    await until(() => flags.current().version === 1, 'the overrides removed');
    expect(flags.current().tableModes).toBeUndefined();
    expect(flags.current().readRouting).toEqual({ grayReadPercent: 5 });
  });

  it('reads read routing from an object flag', async () => {
    const { client } = await openFeature({
      'dualwrite.mode': modeFlag('target_first'),
      'dualwrite.readRouting': { variants: { on: { grayReadPercent: 12.5 } }, defaultVariant: 'on', disabled: false },
    });
    const flags = flagProvider({ client, readRoutingKey: 'dualwrite.readRouting' });
    await flags.start();
    expect(flags.current()).toMatchObject({ mode: 'target_first', readRouting: { grayReadPercent: 12.5 } });
  });

  it('passes the evaluation context, so flag rules can target instances', async () => {
    const { client } = await openFeature({
      'dualwrite.mode': {
        variants: { old: 'source_only', canary: 'source_first' },
        defaultVariant: 'old',
        disabled: false,
        contextEvaluator: (context) => (context.targetingKey === 'canary-1' ? 'canary' : 'old'),
      },
    });
    const canary = flagProvider({ client, context: { targetingKey: 'canary-1' } });
    const other = flagProvider({ client, context: { targetingKey: 'orders-7' } });
    await Promise.all([canary.start(), other.start()]);
    expect(canary.current().mode).toBe('source_first');
    expect(other.current().mode).toBe('source_only');
  });

  it('marks the state stale when PROVIDER_STALE or PROVIDER_ERROR lasts staleAfterMs, and clears it when the provider is back', async () => {
    const { provider, client } = await openFeature({ 'dualwrite.mode': modeFlag('source_first') });
    const errors: Error[] = [];
    const flags = flagProvider({ client, staleAfterMs: 50, onError: (error) => errors.push(error) });
    await flags.start();
    const changes = recordChanges(flags);

    provider.events.emit(ProviderEvents.Stale, { message: 'lost the flag service' });
    await until(() => changes.length === 1, 'the stale state');
    expect(flags.current()).toMatchObject({ mode: 'source_first', version: 1, stale: true });
    expect(errors[0]).toBeInstanceOf(FlagLoadError);
    expect(errors[0]?.message).toContain('lost the flag service');
    expect(errors[0]?.message).toContain('PROVIDER_STALE');

    provider.events.emit(ProviderEvents.Ready);
    await until(() => changes.length === 2, 'the state fresh again');
    expect(flags.current()).toMatchObject({ mode: 'source_first', version: 2, stale: false });

    provider.events.emit(ProviderEvents.Error, { message: 'flag service down' });
    await until(() => changes.length === 3, 'the stale state after an error');
    expect(flags.current()).toMatchObject({ mode: 'source_first', version: 3, stale: true });
    expect(flags.lastError?.message).toContain('flag service down');
  });

  it('re-evaluates on intervalMs for providers that send no events', async () => {
    const { provider, client } = await openFeature({ 'dualwrite.mode': modeFlag('source_only') });
    // The SDK's client behind a wrapper that drops handlers: the timer is the only way to see a change.
    const silent: OpenFeatureClientLike = {
      getStringDetails: (key, value, context) => client.getStringDetails(key, value, context),
      getNumberDetails: (key, value, context) => client.getNumberDetails(key, value, context),
      getObjectDetails: (key, value, context) => client.getObjectDetails(key, value, context),
      addHandler: () => undefined,
      removeHandler: () => undefined,
    };
    const flags = flagProvider({ client: silent, intervalMs: 20 });
    await flags.start();
    provider.putConfiguration({ 'dualwrite.mode': modeFlag('source_first') });
    await until(() => flags.current().mode === 'source_first', 'the change seen by the timer');
  });

  it('stops following the client after close()', async () => {
    const { provider, client } = await openFeature({ 'dualwrite.mode': modeFlag('source_only') });
    const closed = new OpenFeatureFlagProvider({ client });
    await closed.start();
    const witness = flagProvider({ client });
    await witness.start();
    await closed.close();
    await expect(closed.refresh()).rejects.toThrow(/after close/);
    await expect(closed.start()).rejects.toThrow(/after close/);

    provider.putConfiguration({ 'dualwrite.mode': modeFlag('source_first') });
    await until(() => witness.current().mode === 'source_first', 'the witness to switch');
    await witness.refresh(); // one more full evaluation round on the same client
    expect(closed.current()).toMatchObject({ mode: 'source_only', version: 0 });
  });

  it('refuses bad options with a clear error', async () => {
    const { client } = await openFeature({});
    expect(() => new OpenFeatureFlagProvider({ client: {} as OpenFeatureClientLike })).toThrow(InvalidOptionError);
    expect(() => new OpenFeatureFlagProvider({ client: undefined as unknown as OpenFeatureClientLike })).toThrow(/OpenFeature server Client/);
    expect(() => new OpenFeatureFlagProvider({ client, modeKey: ' ' })).toThrow(/modeKey/);
    expect(() => new OpenFeatureFlagProvider({ client, readRoutingKey: 'a', grayReadPercentKey: 'b' })).toThrow(/grayReadPercentKey/);
    expect(() => new OpenFeatureFlagProvider({ client, intervalMs: 0 })).toThrow(/intervalMs/);
    expect(() => new OpenFeatureFlagProvider({ client, staleAfterMs: -1 })).toThrow(/staleAfterMs/);
    expect(() => new OpenFeatureFlagProvider({ client, context: 'ctx' as unknown as Record<string, unknown> })).toThrow(/context/);
    expect(() => new OpenFeatureFlagProvider({ client, initial: 'both' as never })).toThrow(InvalidModeError);
  });

  it('switches a real dual-write pool', async () => {
    const db = await createTestDatabases('openfeature');
    cleanup.push(() => db.drop());
    await Promise.all([db.source.query('CREATE TABLE t (id INT PRIMARY KEY, v INT)'), db.target.query('CREATE TABLE t (id INT PRIMARY KEY, v INT)')]);
    const { provider, client } = await openFeature({ 'dualwrite.mode': modeFlag('source_only') });
    const flags = flagProvider({ client });
    await flags.start();
    const pool = createPool({ source: { uri: db.sourceUrl }, target: { uri: db.targetUrl }, flags });
    cleanup.push(() => new Promise<void>((resolve) => pool.end(() => resolve())));
    const app = pool.promise();

    await app.query('INSERT INTO t VALUES (1, 1)');
    provider.putConfiguration({ 'dualwrite.mode': modeFlag('source_first') });
    await until(() => pool.mode === 'source_first', 'the pool in source_first');
    expect(pool.flagState).toMatchObject({ mode: 'source_first', source: 'openfeature:dualwrite.mode' });
    await app.query('INSERT INTO t VALUES (2, 2)');
    provider.putConfiguration({ 'dualwrite.mode': modeFlag('target_first') });
    await until(() => pool.mode === 'target_first', 'the pool in target_first');
    await app.query('INSERT INTO t VALUES (3, 3)');

    const ids = async (side: typeof db.source): Promise<number[]> => (await side.query<RowDataPacket[]>('SELECT id FROM t ORDER BY id'))[0].map((row) => row.id as number);
    expect(await ids(db.source)).toEqual([1, 2, 3]);
    expect(await ids(db.target)).toEqual([2, 3]);
  });
});
