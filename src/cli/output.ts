/**
 * What the `dualwrite` command prints: human lines (results on stdout, progress and notices on
 * stderr), or `--json` lines on stdout (one object per line, each with a `type`); and the
 * backfill progress views — a bar per table redrawn in place on a terminal, a log line every few
 * seconds otherwise, a JSON line per report with `--json`.
 *
 * @module
 */
import { encodeKeyJson } from '../migrate/key-json.js';
import type { BackfillProgress } from '../migrate/backfill.js';
import type { ExactValue } from '../migrate/codec.js';

/** A stream the command writes to (process.stdout / process.stderr fit). */
export interface OutputStream {
  /** Writes text. */
  write(text: string): boolean;
  /** True on a terminal. */
  readonly isTTY?: boolean;
  /** The terminal's width. */
  readonly columns?: number;
}

/** Something drawn in place on the terminal that must step aside while other lines are printed. */
interface LiveBlock {
  suspend(): void;
  resume(): void;
}

/** The command's printer. */
export class Output {
  /** True with `--json`. */
  readonly json: boolean;
  readonly #stdout: OutputStream;
  readonly #stderr: OutputStream;
  #live: LiveBlock | null = null;

  /**
   * @param json - machine output
   * @param stdout - where results go
   * @param stderr - where progress, notices and errors go
   */
  constructor(json: boolean, stdout: OutputStream, stderr: OutputStream) {
    this.json = json;
    this.#stdout = stdout;
    this.#stderr = stderr;
  }

  /** With `--json`: one object on one line of stdout (Buffers as `{"$hex"}`). Ignored otherwise. */
  event(type: string, fields: Record<string, unknown>): void {
    if (this.json) this.#write(this.#stdout, `${encodeKeyJson({ type, ...fields })}\n`);
  }

  /** Without `--json`: a result line on stdout. Ignored with `--json`. */
  print(text: string): void {
    if (!this.json) this.#write(this.#stdout, `${text}\n`);
  }

  /** Without `--json`: a notice on stderr (progress, hints). Ignored with `--json`. */
  notice(text: string): void {
    if (!this.json) this.#write(this.#stderr, `${text}\n`);
  }

  /** An error line on stderr, in both modes. */
  error(text: string): void {
    this.#write(this.#stderr, `${text}\n`);
  }

  /** The progress view for backfill that fits the output: JSON lines, a live block on a terminal, or log lines. */
  backfillProgress(liveRows: number, logIntervalMs = 5000): ProgressView {
    if (this.json) return { update: (progress) => this.event('progress', { command: 'backfill', ...progress }), close: () => undefined };
    if (this.#stderr.isTTY === true) {
      const view = new TerminalProgress(this.#stderr, Math.max(1, liveRows), () => (this.#live = null));
      this.#live = view;
      return view;
    }
    return new LogProgress((line) => this.notice(line), logIntervalMs);
  }

  #write(stream: OutputStream, text: string): void {
    const live = this.#live;
    live?.suspend();
    stream.write(text);
    live?.resume();
  }
}

/** Receives backfill progress reports. */
export interface ProgressView {
  /** A report of one table. */
  update(progress: BackfillProgress): void;
  /** Draws the last state and stops. */
  close(): void;
}

/** One line per table being copied, redrawn in place (at most ten times a second). */
class TerminalProgress implements ProgressView, LiveBlock {
  readonly #stream: OutputStream;
  readonly #maxLive: number;
  readonly #onClose: () => void;
  readonly #lines = new Map<string, { text: string; at: number }>();
  #committed: string[] = [];
  #drawn = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #clock = 0;

  constructor(stream: OutputStream, maxLive: number, onClose: () => void) {
    this.#stream = stream;
    this.#maxLive = maxLive;
    this.#onClose = onClose;
  }

  update(progress: BackfillProgress): void {
    if (this.#closed) return;
    // Lines keep their places; `at` orders them by their last update.
    this.#lines.set(progress.table, { text: progressLine(progress, true), at: ++this.#clock });
    // Only `concurrency` tables copy at once: the line updated longest ago belongs to a finished table.
    while (this.#lines.size > this.#maxLive) {
      let oldest: [string, { text: string; at: number }] | undefined;
      for (const entry of this.#lines) if (oldest === undefined || entry[1].at < oldest[1].at) oldest = entry;
      if (oldest === undefined) break;
      this.#committed.push(oldest[1].text);
      this.#lines.delete(oldest[0]);
    }
    if (this.#drawn === 0 && this.#committed.length === 0 && this.#lines.size === 1) this.#draw();
    else this.#timer ??= setTimeout(() => this.#draw(), 100);
  }

  suspend(): void {
    if (this.#drawn > 0) this.#stream.write(`\x1b[${this.#drawn}A\r\x1b[J`);
    this.#drawn = 0;
  }

  resume(): void {
    if (!this.#closed) this.#draw();
  }

  close(): void {
    if (this.#closed) return;
    for (const line of this.#lines.values()) this.#committed.push(line.text);
    this.#lines.clear();
    this.#draw();
    this.#closed = true;
    this.#onClose();
  }

  #draw(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    // A line longer than the terminal would wrap and break the cursor arithmetic. Some terminals report no width (0).
    const columns = this.#stream.columns !== undefined && this.#stream.columns > 0 ? this.#stream.columns : 100;
    const width = Math.max(20, columns - 1);
    const fit = (line: string): string => (line.length > width ? `${line.slice(0, width - 1)}…` : line);
    let text = this.#drawn > 0 ? `\x1b[${this.#drawn}A\r` : '\r';
    for (const line of this.#committed) text += `\x1b[2K${fit(line)}\n`;
    for (const line of this.#lines.values()) text += `\x1b[2K${fit(line.text)}\n`;
    this.#stream.write(`${text}\x1b[J`);
    this.#committed = [];
    this.#drawn = this.#lines.size;
  }
}

/** Plain log lines, at most one per table every `intervalMs`. */
class LogProgress implements ProgressView {
  readonly #log: (line: string) => void;
  readonly #intervalMs: number;
  readonly #pending = new Map<string, BackfillProgress>();
  #last = 0;

  constructor(log: (line: string) => void, intervalMs: number) {
    this.#log = log;
    this.#intervalMs = intervalMs;
  }

  update(progress: BackfillProgress): void {
    this.#pending.set(progress.table, progress);
    if (Date.now() - this.#last >= this.#intervalMs) this.#flush();
  }

  close(): void {
    this.#pending.clear();
  }

  #flush(): void {
    this.#last = Date.now();
    for (const progress of this.#pending.values()) this.#log(`backfill ${progressLine(progress, false)}`);
    this.#pending.clear();
  }
}

/** A table's progress as one line, with a bar on a terminal. */
export function progressLine(progress: BackfillProgress, bar: boolean): string {
  const total = Math.max(progress.rowsTotalEstimate, progress.rowsCopied);
  const fraction = total === 0 ? 1 : Math.min(1, progress.rowsCopied / total);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const filled = Math.round(fraction * 20);
  const drawn = bar ? ` [${'#'.repeat(filled)}${'.'.repeat(20 - filled)}]` : '';
  const rows = `${count(progress.rowsCopied)}/~${count(total)} rows`;
  const rate = `${count(Math.round(progress.rowsPerSecond))} rows/s`;
  const tail = progress.paused !== undefined ? `paused: ${progress.paused}` : `ETA ${progress.etaSeconds === null ? '?' : duration(progress.etaSeconds)}`;
  return `${progress.table}${drawn} ${percent}  ${rows}  ${rate}  ${tail}`;
}

/** `1,234,567`. */
export function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** `2h05m`, `3m07s`, `12s`, `0.4s`. */
export function duration(seconds: number): string {
  if (seconds < 10) return `${Math.max(0, seconds).toFixed(1).replace(/\.0$/, '')}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** An exact value for a human line: text as it is (quoted when it has spaces or quotes), bytes as 0x…, NULL. */
export function showValue(value: ExactValue | undefined): string {
  if (value === null || value === undefined) return 'NULL';
  if (Buffer.isBuffer(value)) return `0x${value.toString('hex')}`;
  return /^[\w.:+-]+$/.test(value) ? value : JSON.stringify(value);
}

/** A key as `a=1, b=x`. */
export function showKey(key: Readonly<Record<string, ExactValue>> | readonly ExactValue[] | null): string {
  if (key === null) return '(start)';
  if (Array.isArray(key)) return (key as readonly ExactValue[]).map(showValue).join(', ');
  return Object.entries(key as Record<string, ExactValue>)
    .map(([column, value]) => `${column}=${showValue(value)}`)
    .join(', ');
}
