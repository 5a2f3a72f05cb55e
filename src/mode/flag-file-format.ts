/**
 * Reading a flag file's text into a {@link FlagDocument}: JSON, or YAML for files named `*.yaml` / `*.yml`
 * (through the `yaml` package, an optional peer dependency loaded only for such files), or an application's own
 * parser. Shared by `FileFlagProvider` and `dualwrite mode --flags-file`.
 *
 * @module
 */
import { FlagLoadError, InvalidModeError } from '../errors.js';
import { MODES } from './modes.js';
import { parseFlagDocument, type FlagDocument } from './redis-flag-document.js';

/** How a flag file is written: JSON, YAML, or a function of the application's that turns the text into an object. */
export type FlagFileFormat = 'json' | 'yaml' | ((text: string) => unknown);

/** The format a file's name suggests: `yaml` for `*.yaml` and `*.yml`, else `json`. */
export function formatOfPath(path: string): 'json' | 'yaml' {
  return /\.ya?ml$/i.test(path) ? 'yaml' : 'json';
}

let yamlModule: Promise<(text: string) => unknown> | undefined;

/** The `yaml` package's `parse`, loaded once. */
function loadYaml(path: string): Promise<(text: string) => unknown> {
  yamlModule ??= import('yaml').then(
    (module: { parse?: unknown; default?: { parse?: unknown } }) => (module.parse ?? module.default?.parse) as (text: string) => unknown,
    (cause: unknown) => {
      yamlModule = undefined; // installed later: try again
      throw new FlagLoadError(
        `the flag file ${path}`,
        'It is YAML (by its name), and reading YAML needs the `yaml` package: `npm install yaml`. Or write the document as JSON ' +
          '(JSON is valid YAML too) in a file named *.json, or pass your own parser as `format`.',
        { cause },
      );
    },
  );
  return yamlModule;
}

/**
 * The text of a flag file as the object it holds, unchecked (fields this version does not know are kept).
 *
 * @param text - the file's content
 * @param path - the file's path (for messages, and for the format when `format` is not given)
 * @param format - how the text is written @defaultValue by the file name ({@link formatOfPath})
 * @throws {@link InvalidModeError} when the text cannot be parsed in that format
 * @throws {@link FlagLoadError} when the file is YAML and the `yaml` package is not installed
 */
export async function parseFlagFileObject(text: string, path: string, format: FlagFileFormat = formatOfPath(path)): Promise<unknown> {
  const where = `file ${path}`;
  if (format === 'json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new InvalidModeError(text, `${where} (not valid JSON: expected an object such as {"mode":"source_first"})`, MODES, { cause });
    }
  }
  const parse = format === 'yaml' ? await loadYaml(path) : format;
  try {
    return parse(text);
  } catch (cause) {
    const kind = format === 'yaml' ? 'YAML' : 'the format given';
    throw new InvalidModeError(text, `${where} (not valid ${kind}: ${(cause as Error)?.message ?? String(cause)}; expected a document such as mode: source_first)`, MODES, { cause });
  }
}

/**
 * Parses and checks the text of a flag file.
 *
 * @param text - the file's content
 * @param path - the file's path (for messages, and for the format when `format` is not given)
 * @param format - how the text is written @defaultValue by the file name ({@link formatOfPath})
 * @returns the checked document
 * @throws {@link InvalidModeError} when the text is not a valid flag document in that format
 * @throws {@link FlagLoadError} when the file is YAML and the `yaml` package is not installed
 */
export async function parseFlagFile(text: string, path: string, format: FlagFileFormat = formatOfPath(path)): Promise<FlagDocument> {
  if (format === 'json') return parseFlagDocument(text, `file ${path}`);
  return parseFlagDocument(JSON.stringify((await parseFlagFileObject(text, path, format)) ?? null), `file ${path}`);
}
