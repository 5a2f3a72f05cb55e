/**
 * The flag document: the JSON object the Redis and file providers read, e.g.
 * `{"mode":"source_first","revision":3,"updatedAt":1700000000000,"source":"ops:alice"}`.
 *
 * Only `mode` is required. Fields this version does not know are ignored (and
 * kept by {@link RedisModeController} when it rewrites the document), so later
 * settings can be added without breaking running instances.
 *
 * @module
 */
import { InvalidModeError } from '../errors.js';
import type { FlagState, ReadRoutingSettings } from './flag-provider.js';
import { MODES, parseMode, type Mode } from './modes.js';
import { isTableKey } from './table-modes.js';

/** A flag document, checked. */
export interface FlagDocument {
  /** The mode of the whole pool. */
  readonly mode: Mode;
  /** The document's revision (written by {@link RedisModeController}); 0 when absent. */
  readonly revision: number;
  /** When it was set, in milliseconds since the epoch, when the document says. */
  readonly updatedAt?: number;
  /** Who set it, when the document says. */
  readonly source?: string;
  /** Per-table overrides, carried into {@link FlagState.tableModes} (see docs/modes.md, "Per-table modes"). */
  readonly tableModes?: Readonly<Record<string, Mode>>;
  /** Read routing: gray and shadow read shares, carried into {@link FlagState.readRouting}. */
  readonly readRouting?: ReadRoutingSettings;
}

/**
 * Parses and checks a flag document.
 *
 * @param text - the JSON text
 * @param where - where it came from, for error messages (e.g. `the Redis key "dualwrite:flags"`)
 * @returns the checked document
 * @throws {@link InvalidModeError} when the text is not a JSON object with a valid `mode`, or a
 *   field it carries is malformed (the message says which)
 */
export function parseFlagDocument(text: string, where: string): FlagDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new InvalidModeError(text, `${where} (not valid JSON: expected an object such as {"mode":"source_first"})`, MODES, { cause });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !('mode' in raw)) {
    throw new InvalidModeError(raw, `${where} (expected a JSON object with a "mode" field)`, MODES);
  }
  const object = raw as Record<string, unknown>;
  const mode = parseMode(object.mode, `the "mode" field of ${where}`);
  const revision = object.revision ?? 0;
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) {
    throw new InvalidModeError(raw, `${where} (the "revision" field must be a whole number of at least 0)`, MODES);
  }
  const document: { -readonly [K in keyof FlagDocument]: FlagDocument[K] } = { mode, revision };
  if (typeof object.updatedAt === 'number' && Number.isFinite(object.updatedAt)) document.updatedAt = object.updatedAt;
  if (typeof object.source === 'string') document.source = object.source;
  if (object.tableModes !== undefined) document.tableModes = parseTableModes(object.tableModes, where);
  if (object.readRouting !== undefined) document.readRouting = parseReadRouting(object.readRouting, where);
  return document;
}

function parseTableModes(value: unknown, where: string): Readonly<Record<string, Mode>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidModeError(value, `the "tableModes" field of ${where} (expected an object of "schema.table": mode)`, MODES);
  }
  const modes: Record<string, Mode> = {};
  for (const [table, mode] of Object.entries(value)) {
    // A key without its schema would never match a table: refuse the document rather than ignore the override.
    if (!isTableKey(table)) throw new InvalidModeError(value, `the "tableModes" field of ${where} (key ${JSON.stringify(table)} is not "schema.table")`, MODES);
    modes[table] = parseMode(mode, `"tableModes"."${table}" of ${where}`);
  }
  return Object.freeze(modes);
}

/**
 * Checks a `readRouting` object (each share a number from 0 to 100; unknown fields are dropped).
 *
 * @param value - the value to check
 * @param where - where it came from, for the error message
 * @throws {@link InvalidModeError} when it is not an object or a share is out of range
 */
export function parseReadRouting(value: unknown, where: string): ReadRoutingSettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidModeError(value, `the "readRouting" field of ${where} (expected an object)`, MODES);
  }
  const settings: { -readonly [K in keyof ReadRoutingSettings]: ReadRoutingSettings[K] } = {};
  for (const name of ['grayReadPercent', 'shadowReadPercent'] as const) {
    const percent = (value as Record<string, unknown>)[name];
    if (percent === undefined) continue;
    if (typeof percent !== 'number' || !(percent >= 0 && percent <= 100)) {
      throw new InvalidModeError(value, `${where} ("readRouting"."${name}" must be a number from 0 to 100)`, MODES);
    }
    settings[name] = percent;
  }
  return Object.freeze(settings);
}

/**
 * Whether two states carry the same flag values (mode, table overrides, read
 * routing); versions, times and sources are not compared.
 */
export function sameFlagValues(a: FlagState, b: FlagDocument): boolean {
  return a.mode === b.mode && JSON.stringify(a.tableModes ?? null) === JSON.stringify(b.tableModes ?? null) && JSON.stringify(a.readRouting ?? null) === JSON.stringify(b.readRouting ?? null);
}

/**
 * Builds the frozen state for a document.
 *
 * @param extra - provider-specific fields (e.g. `revision`, `stale`)
 */
export function stateFromDocument<E extends object>(document: FlagDocument, version: number, now: number, fallbackSource: string | undefined, extra: E): FlagState & E {
  const state: Record<string, unknown> = { mode: document.mode, version, updatedAt: document.updatedAt ?? now };
  const source = document.source ?? fallbackSource;
  if (source !== undefined) state.source = source;
  if (document.tableModes !== undefined) state.tableModes = document.tableModes;
  if (document.readRouting !== undefined) state.readRouting = document.readRouting;
  return Object.freeze({ ...state, ...extra }) as FlagState & E;
}
