/**
 * Statement text safe for telemetry: every literal value replaced by `?`, comments dropped.
 *
 * @module
 */
import { lex } from '../sql/lexer.js';

/**
 * The statement with its string, number, hexadecimal and bit-value literals replaced by `?`, built from the
 * project's lexer's tokens: comments (which may hold anything) are dropped, each run of whitespace or comments
 * between two tokens becomes one space, and placeholders, identifiers, keywords and operators are kept as written.
 * The content of an executable comment (`/*! … *\/`) is kept as code (its values are replaced too), without its
 * markers. Text the lexer finds unterminated (an unclosed quote) is cut at that point and ends in `?`, so that
 * nothing of the unclosed literal is shown.
 *
 * @param sql - a statement as the application sent it (or as mysql2 formatted it with its values)
 */
export function sanitizeSql(sql: string): string {
  const { tokens } = lex(sql);
  let out = '';
  let previousEnd = -1;
  for (const token of tokens) {
    if (previousEnd >= 0 && token.start > previousEnd) out += ' ';
    if (token.type === 'string' || token.type === 'number' || token.type === 'hex') out += '?';
    else out += sql.slice(token.start, token.end);
    previousEnd = token.end;
  }
  return out;
}
