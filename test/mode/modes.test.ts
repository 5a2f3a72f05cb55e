/** Modes: validation, parsing, and the facts derived from a mode. */
import { describe, expect, it } from 'vitest';
import { DualWriteError, InvalidModeError } from '../../src/errors.js';
import {
  MODES,
  isAdjacentSwitch,
  isMode,
  parseMode,
  primarySide,
  secondarySide,
  writesBothSides,
  type Mode,
} from '../../src/mode/index.js';

describe('MODES', () => {
  it('lists the four modes in migration order and cannot be changed', () => {
    expect(MODES).toEqual(['source_only', 'source_first', 'target_first', 'target_only']);
    expect(Object.isFrozen(MODES)).toBe(true);
  });
});

describe('isMode', () => {
  it('accepts exactly the four names', () => {
    for (const mode of MODES) expect(isMode(mode)).toBe(true);
    for (const value of ['SOURCE_ONLY', ' source_only', 'source', '', null, undefined, 1, {}, ['source_only']]) {
      expect(isMode(value)).toBe(false);
    }
  });
});

describe('parseMode', () => {
  it('returns valid modes, ignoring surrounding whitespace', () => {
    expect(parseMode('target_first', 'test')).toBe('target_first');
    expect(parseMode('  source_first\n', 'a file')).toBe('source_first');
  });

  it.each([
    ['Source_Only', '"Source_Only"'],
    ['source-only', '"source-only"'],
    ['', '""'],
    [42, '42'],
    [null, 'null'],
    [undefined, 'undefined'],
    [{ mode: 'source_only' }, '{"mode":"source_only"}'],
  ])('rejects %j, naming the value, where it came from, and the valid modes', (value, rendered) => {
    let caught: unknown;
    try {
      parseMode(value, 'the config key dualwrite.mode');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidModeError);
    expect(caught).toBeInstanceOf(DualWriteError);
    const error = caught as InvalidModeError;
    expect(error.code).toBe('ER_DUALWRITE_INVALID_MODE');
    expect(error.name).toBe('InvalidModeError');
    expect(error.value).toBe(value);
    expect(error.where).toBe('the config key dualwrite.mode');
    expect(error.message).toContain(rendered);
    expect(error.message).toContain('the config key dualwrite.mode');
    expect(error.message).toContain('source_only, source_first, target_first, target_only');
  });

  it('cuts very long values in the message', () => {
    const long = 'x'.repeat(10_000);
    expect(() => parseMode(long, 'test')).toThrow(/x{100}\.\.\./);
    expect(() => parseMode(long, 'test')).not.toThrow(/x{200}/);
  });
});

describe('sides', () => {
  const table: Array<[Mode, 'source' | 'target', 'source' | 'target' | null, boolean]> = [
    ['source_only', 'source', null, false],
    ['source_first', 'source', 'target', true],
    ['target_first', 'target', 'source', true],
    ['target_only', 'target', null, false],
  ];
  it.each(table)('%s: primary %s, secondary %s, both sides %s', (mode, primary, secondary, both) => {
    expect(primarySide(mode)).toBe(primary);
    expect(secondarySide(mode)).toBe(secondary);
    expect(writesBothSides(mode)).toBe(both);
  });
});

describe('isAdjacentSwitch', () => {
  it('is true for one step forward or back, false otherwise', () => {
    for (const [i, from] of MODES.entries()) {
      for (const [j, to] of MODES.entries()) {
        expect(isAdjacentSwitch(from, to), `${from} → ${to}`).toBe(Math.abs(i - j) === 1);
      }
    }
  });
});
