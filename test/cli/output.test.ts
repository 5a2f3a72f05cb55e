import { describe, expect, it } from 'vitest';
import type { BackfillProgress } from '../../src/migrate/backfill.js';
import { duration, Output, progressLine, showKey, type OutputStream } from '../../src/cli/output.js';

/** A stream that records what was written. */
function recorder(isTTY: boolean): OutputStream & { text: string } {
  const stream = {
    text: '',
    isTTY,
    columns: 80,
    write(chunk: string): boolean {
      stream.text += chunk;
      return true;
    },
  };
  return stream;
}

const progress = (table: string, rowsCopied: number, extra: Partial<BackfillProgress> = {}): BackfillProgress => ({
  table,
  rowsCopied,
  rowsTotalEstimate: 1000,
  rowsPerSecond: 250,
  etaSeconds: (1000 - rowsCopied) / 250,
  chunkRows: 100,
  ...extra,
});

const ESC = String.fromCharCode(27);

/** What a terminal shows after `text` (cursor up, clear line, clear to end), as lines. */
function screen(text: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  for (let i = 0; i < text.length; ) {
    const escape = new RegExp(`^${ESC}\\[(\\d*)([AJK])`).exec(text.slice(i));
    if (escape !== null) {
      const [all, count, op] = escape;
      if (op === 'A') row = Math.max(0, row - Number(count || 1));
      if (op === 'K') lines[row] = '';
      if (op === 'J') {
        lines.splice(row + 1);
        lines[row] = '';
      }
      i += all.length;
      continue;
    }
    const char = text[i] as string;
    if (char === '\n') {
      row++;
      lines[row] ??= '';
    } else if (char !== '\r') lines[row] = (lines[row] ?? '') + char;
    i++;
  }
  return lines.filter((line) => line !== '');
}

describe('backfill progress output', () => {
  it('formats a line with rows, rate and ETA, or the pause reason', () => {
    expect(progressLine(progress('orders', 250), true)).toBe('orders [#####...............]  25%  250/~1,000 rows  250 rows/s  ETA 3s');
    expect(progressLine(progress('orders', 250, { paused: 'pause file /tmp/p exists' }), false)).toBe('orders  25%  250/~1,000 rows  250 rows/s  paused: pause file /tmp/p exists');
    expect(duration(3725)).toBe('1h02m');
    expect(duration(125)).toBe('2m05s');
    expect(showKey({ id: '5', name: 'a b', bin: Buffer.from([1, 255]), none: null })).toBe('id=5, name="a b", bin=0x01ff, none=NULL');
  });

  it('redraws one line per table in place on a terminal, keeps printed lines above it, and leaves finished tables behind', () => {
    const stdout = recorder(true);
    const stderr = recorder(true);
    const output = new Output(false, stdout, stderr);
    const view = output.backfillProgress(2);
    view.update(progress('a', 100));
    view.update(progress('b', 100));
    view.update(progress('a', 500));
    view.close(); // draws the last state
    expect(screen(stderr.text)).toEqual([progressLine(progress('a', 500), true), progressLine(progress('b', 100), true)]);

    const again = recorder(true);
    const live = new Output(false, again, again);
    const second = live.backfillProgress(1);
    second.update(progress('a', 100));
    live.print('a line printed meanwhile');
    second.update(progress('a', 1000, { etaSeconds: 0 }));
    second.update(progress('b', 10)); // concurrency 1: table a is finished, its last line stays
    second.close();
    expect(screen(again.text)).toEqual(['a line printed meanwhile', progressLine(progress('a', 1000, { etaSeconds: 0 }), true), progressLine(progress('b', 10), true)]);
  });

  it('prints plain log lines at most every interval when not a terminal, and JSON lines with --json', () => {
    const stderr = recorder(false);
    const view = new Output(false, recorder(false), stderr).backfillProgress(2, 60_000);
    for (let rows = 0; rows <= 1000; rows += 100) view.update(progress('a', rows));
    view.close();
    expect(stderr.text).toBe(`backfill ${progressLine(progress('a', 0), false)}\n`);

    const stdout = recorder(false);
    const json = new Output(true, stdout, recorder(false)).backfillProgress(2);
    json.update(progress('a', 100, { paused: 'x' }));
    expect(JSON.parse(stdout.text)).toEqual({ type: 'progress', command: 'backfill', ...progress('a', 100, { paused: 'x' }) });
  });
});
