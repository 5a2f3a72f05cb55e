/**
 * `FileFlagProvider`: the mode read from a JSON or YAML file, watched for changes —
 * the route for Kubernetes ConfigMaps mounted as files.
 *
 * YAML (`*.yaml`, `*.yml`, or `format: 'yaml'`) is read with the `yaml` package, an optional peer
 * dependency loaded only for such files; `format` also takes a parser of your own.
 *
 * @module
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { ClosedError, FlagLoadError, FlagsNotReadyError, InvalidModeError, InvalidOptionError } from '../errors.js';
import type { FlagListener, FlagProvider, FlagState, LoadedFlagProviderOptions } from './flag-provider.js';
import { FlagListeners, reportSafely, SerialRunner } from './internal.js';
import { parseMode, type Mode } from './modes.js';
import { parseFlagFile, type FlagFileFormat } from './flag-file-format.js';
import { sameFlagValues, stateFromDocument, type FlagDocument } from './redis-flag-document.js';

/** Options of {@link FileFlagProvider} (`source` defaults to `file:<path>`). */
export interface FileFlagProviderOptions extends LoadedFlagProviderOptions {
  /** Path of the JSON flag document, e.g. `{"mode":"source_first","source":"configmap"}` (see {@link FlagDocument}). */
  readonly path: string;
  /**
   * Interval of the fallback check (file size, modification time and inode), in
   * milliseconds. `fs.watch` misses some replacements (a ConfigMap update swaps a
   * symlinked directory), so the file is also checked on this timer. @defaultValue 2000
   */
  readonly intervalMs?: number;
  /** Mode to use when the file is missing or invalid at `start()`. Without it, `start()` rejects. */
  readonly initial?: Mode;
  /**
   * How the file is written: `'json'`, `'yaml'` (needs the `yaml` package), or a function turning the text into
   * the document object (e.g. js-yaml's `load`). @defaultValue `'yaml'` for `*.yaml` / `*.yml`, else `'json'`
   */
  readonly format?: FlagFileFormat;
}

const MAX_TIMER_MS = 2_147_483_647;
const NAME = 'FileFlagProvider';

/**
 * A mode read from a JSON file and re-read when it changes.
 *
 * - `start()` reads the file, then watches its directory with `fs.watch` (which
 *   sees in-place writes and atomic replacements by rename) and checks its
 *   size, modification time and inode every `intervalMs` as a fallback.
 * - A file that cannot be read or holds an invalid document never replaces the
 *   state in force: the error goes to `onError` and `lastError`; nothing is thrown into the pool.
 * - The same values as in force change nothing; new values become a new state (version + 1).
 * - Timers and watchers do not keep the process alive. `close()` stops them.
 *
 * @example
 * const flags = new FileFlagProvider({ path: '/etc/dualwrite/flags.json', onError: (e) => log.error(e.message) });
 * await flags.start();
 */
export class FileFlagProvider implements FlagProvider {
  readonly #path: string;
  readonly #intervalMs: number;
  readonly #options: FileFlagProviderOptions;
  readonly #listeners: FlagListeners;
  readonly #now: () => number;
  #state: FlagState | undefined;
  #lastError: FlagLoadError | InvalidModeError | undefined;
  #fingerprint = '';
  #starting: Promise<void> | undefined;
  readonly #reads = new SerialRunner<FlagLoadError | InvalidModeError | undefined>(() => this.#readOnce(), () => this.#closed);
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /**
   * @param options - see {@link FileFlagProviderOptions}
   * @throws {@link InvalidOptionError} when `path` is empty or `intervalMs` is out of range
   * @throws {@link InvalidModeError} when `initial` is not a mode
   */
  constructor(options: FileFlagProviderOptions) {
    if (typeof options.path !== 'string' || options.path === '') throw new InvalidOptionError(`${NAME} path`, options.path, 'the path of a JSON or YAML flag file');
    const intervalMs = options.intervalMs ?? 2000;
    if (typeof intervalMs !== 'number' || !(intervalMs > 0 && intervalMs <= MAX_TIMER_MS)) {
      throw new InvalidOptionError(`${NAME} intervalMs`, intervalMs, `a number of milliseconds above 0 and at most ${MAX_TIMER_MS}`);
    }
    this.#path = options.path;
    this.#intervalMs = intervalMs;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#listeners = new FlagListeners(options.onListenerError);
    if (options.initial !== undefined) {
      const mode = parseMode(options.initial, `the ${NAME} initial option`);
      this.#state = stateFromDocument({ mode, revision: 0 }, 0, this.#now(), this.#source(), {});
    }
  }

  /**
   * The state in force (a field read).
   *
   * @throws {@link FlagsNotReadyError} before `start()` succeeded, when no `initial` mode was given
   */
  current(): FlagState {
    const state = this.#state;
    if (state === undefined) throw new FlagsNotReadyError(NAME);
    return state;
  }

  /** {@inheritDoc FlagProvider.subscribe} */
  subscribe(listener: FlagListener): () => void {
    return this.#listeners.add(listener);
  }

  /** The error of the last read, or `undefined` when it succeeded. */
  get lastError(): FlagLoadError | InvalidModeError | undefined {
    return this.#lastError;
  }

  /**
   * Reads the file and starts watching it. Calling it again returns the same promise.
   *
   * @throws {@link FlagLoadError} when the file cannot be read or is invalid and no `initial` was given
   *   (nothing is watched; `start()` may be called again)
   * @throws {@link ClosedError} after `close()`
   */
  start(): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError(`${NAME}.start() was called after close()`, 'A closed provider does not watch again; create a new one.'));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  /** Stops watching. The state stays readable. Idempotent. */
  close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    clearInterval(this.#timer);
    this.#timer = undefined;
    return Promise.resolve();
  }

  async #start(): Promise<void> {
    const error = await this.#read();
    if (this.#closed) return;
    if (error !== undefined) {
      if (this.#state === undefined) {
        this.#starting = undefined;
        throw error instanceof FlagLoadError ? error : new FlagLoadError(`the mode from file ${this.#path}`, this.#consequence(), { cause: error });
      }
      this.#report(error);
    }
    try {
      // The directory, not the file: a rename over the file (or a ConfigMap's symlink swap) ends a watch on the file itself.
      const name = basename(this.#path);
      this.#watcher = watch(dirname(this.#path), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name || changed.startsWith('..')) this.#check();
      });
      this.#watcher.on('error', () => undefined); // the timer still checks the file
    } catch {
      // fs.watch is unavailable on some file systems; the timer checks the file.
    }
    const timer = setInterval(() => this.#check(true), this.#intervalMs);
    timer.unref();
    this.#timer = timer;
  }

  /** Re-reads after a watcher event, or (timer) when the file's fingerprint changed. */
  #check(onlyIfChanged = false): void {
    if (this.#closed) return;
    void (async () => {
      if (onlyIfChanged && (await this.#fingerprintNow()) === this.#fingerprint) return;
      const error = await this.#read();
      if (error !== undefined) this.#report(error);
    })();
  }

  async #fingerprintNow(): Promise<string> {
    try {
      const stats = await stat(this.#path);
      return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }

  /** One read at a time; a read requested meanwhile runs once more after it. Never rejects. */
  #read(): Promise<FlagLoadError | InvalidModeError | undefined> {
    return this.#reads.run();
  }


  async #readOnce(): Promise<FlagLoadError | InvalidModeError | undefined> {
    const fingerprint = await this.#fingerprintNow();
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (cause) {
      return this.#fail(new FlagLoadError(`the mode from file ${this.#path}`, this.#consequence(), { cause }), fingerprint);
    }
    if (this.#closed) return undefined;
    let document: FlagDocument;
    try {
      document = await parseFlagFile(text, this.#path, this.#options.format);
    } catch (error) {
      if (!(error instanceof InvalidModeError) && !(error instanceof FlagLoadError)) throw error;
      return this.#fail(error, fingerprint);
    }
    if (this.#closed) return undefined;
    this.#fingerprint = fingerprint;
    this.#lastError = undefined;
    const previous = this.#state;
    if (previous !== undefined && sameFlagValues(previous, document)) return undefined;
    const next = stateFromDocument(document, previous === undefined ? 0 : previous.version + 1, this.#now(), this.#source(), {});
    this.#state = next;
    if (previous !== undefined) this.#listeners.notify(next, previous);
    return undefined;
  }

  #fail(error: FlagLoadError | InvalidModeError, fingerprint: string): FlagLoadError | InvalidModeError {
    this.#fingerprint = fingerprint; // report a bad file once, not on every timer tick
    this.#lastError = error;
    return error;
  }

  #report(error: FlagLoadError | InvalidModeError): void {
    const onError = this.#options.onError;
    if (onError !== undefined) reportSafely(onError, error);
  }

  #source(): string {
    return this.#options.source ?? `file:${this.#path}`;
  }

  #consequence(): string {
    const state = this.#state;
    return state === undefined
      ? 'There is no mode yet and no `initial` mode was given: start() rejects until the file holds a valid document (call it again), or pass `initial`.'
      : `The mode in force (${state.mode}, version ${state.version}) stays until the file holds a valid document.`;
  }
}
