/**
 * Switching the mode kept in a JSON flag file (the file `FileFlagProvider` watches): the document is
 * rewritten atomically — written to a temporary file beside it, then renamed over it — so a provider
 * never reads half a document. There are no acknowledgements with a file: each process re-reads it on
 * its own schedule, and nothing reports which have applied it.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DualWriteError, FlagLoadError } from '../errors.js';
import { parseMode, type Mode } from '../mode/modes.js';
import type { ReadRoutingSettings } from '../mode/flag-provider.js';
import { parseFlagFile, parseFlagFileObject } from '../mode/flag-file-format.js';
import { parseFlagDocument, parseReadRouting, type FlagDocument } from '../mode/redis-flag-document.js';
import { checkTableKey } from '../mode/table-modes.js';

/**
 * The document in a flag file, or `null` when the file does not exist.
 *
 * @throws {@link InvalidModeError} when the content is invalid
 * @throws {@link FlagLoadError} when the file cannot be read
 */
export async function readFlagFile(path: string): Promise<FlagDocument | null> {
  const text = await readText(path);
  return text === null ? null : parseFlagFile(text, path);
}

/** The file's text, or `null` when it does not exist. */
async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new FlagLoadError(`the flag file ${path}`, 'Check the path and its permissions.', { cause: error });
  }
}

/**
 * Writes `mode` (for the whole pool, or for one `table` in `tableModes`) as the next revision of the
 * flag file, keeping the other fields; creates the file when it does not exist.
 *
 * @returns the document written and the mode it replaced (`null` when there was no file)
 * @throws {@link InvalidModeError} for a bad mode, or when the existing file is invalid (it is left as it is)
 * @throws {@link InvalidOptionError} when `table` is not `schema.table`
 * @throws {@link DualWriteError} `ER_DUALWRITE_FLAG_FILE_WRITE` when the file cannot be written (a ConfigMap mount is read-only)
 */
export async function writeFlagFile(path: string, mode: Mode, options: { readonly table?: string; readonly source?: string; readonly now?: number } = {}): Promise<{ document: FlagDocument; from: Mode | null }> {
  const checked = parseMode(mode, 'dualwrite mode set');
  const table = options.table === undefined ? undefined : checkTableKey(options.table, 'the --table option');
  const { document, previous } = await rewriteFlagFile(path, options, (next, previous) => {
    if (table === undefined) next.mode = checked;
    else {
      next.mode = previous?.mode ?? 'source_only';
      next.tableModes = { ...previous?.tableModes, [table]: checked };
    }
  });
  const from = previous === null ? null : table === undefined ? previous.mode : (previous.tableModes?.[table] ?? previous.mode);
  return { document, from };
}

/**
 * Writes the read-routing shares (merged into those already in the file) as the next revision of the flag file,
 * keeping the other fields; creates the file (mode `source_only`) when it does not exist.
 *
 * @returns the document written
 * @throws {@link InvalidModeError} when a share is not a number from 0 to 100, or the existing file is invalid
 * @throws {@link DualWriteError} `ER_DUALWRITE_FLAG_FILE_WRITE` when the file cannot be written
 */
export async function writeFlagFileRouting(path: string, routing: ReadRoutingSettings, options: { readonly source?: string; readonly now?: number } = {}): Promise<FlagDocument> {
  const { document } = await rewriteFlagFile(path, options, (next, previous) => {
    next.mode = previous?.mode ?? 'source_only';
    next.readRouting = parseReadRouting({ ...previous?.readRouting, ...routing }, 'dualwrite mode routing');
  });
  return document;
}

/** Reads the file, lets `change` edit the next document, and writes it atomically (temporary file + rename). */
async function rewriteFlagFile(
  path: string,
  options: { readonly source?: string; readonly now?: number },
  change: (next: Record<string, unknown>, previous: FlagDocument | null) => void,
): Promise<{ document: FlagDocument; previous: FlagDocument | null }> {
  const stored = await readText(path);
  const previous = stored === null ? null : await parseFlagFile(stored, path);
  // The fields as stored (unknown ones kept); valid, since parsed above. A YAML file is written back as JSON (valid YAML).
  const fields = stored === null ? {} : ((await parseFlagFileObject(stored, path)) as Record<string, unknown>);
  const next: Record<string, unknown> = { ...fields, revision: (previous?.revision ?? 0) + 1, updatedAt: options.now ?? Date.now() };
  change(next, previous);
  if (options.source !== undefined) next.source = options.source;
  const text = `${JSON.stringify(next, null, 2)}\n`;
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, text, { mode: 0o644 });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new DualWriteError(
      'ER_DUALWRITE_FLAG_FILE_WRITE',
      `Could not write the flag file ${path}: ${(error as Error).message}. The file was left as it was. ` +
        'Check that its directory is writable; a Kubernetes ConfigMap mount is read-only: change the ConfigMap instead.',
      { cause: error },
    );
  }
  return { document: parseFlagDocument(text, `file ${path}`), previous };
}
