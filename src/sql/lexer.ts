/**
 * A lexer for MySQL/MariaDB SQL text. It never throws: every input, however
 * broken, becomes a token list plus flags saying what was odd about it.
 *
 * Comments are dropped, except executable comments (`/*! … *\/`, `/*M! … *\/`)
 * whose content the server runs: their content is lexed as code and their
 * position is reported, so nothing hidden in them is ever ignored.
 *
 * @module
 */
import type { Span } from './types.js';

/** The kinds of token the lexer produces. */
export type TokenType =
  /** An unquoted word: a keyword or an identifier. */
  | 'word'
  /** A backtick-quoted identifier. */
  | 'ident'
  /** A string literal ('…' or "…"), with its `_charset` or `N` introducer if any. */
  | 'string'
  /** A numeric literal. */
  | 'number'
  /** A hexadecimal or bit-value literal: X'..', 0x.., B'..', 0b... */
  | 'hex'
  /** A `?` placeholder, or `??` (mysql2's identifier placeholder). */
  | 'placeholder'
  /** A user variable: `@x`, `@'x'`, `@\`x\``. */
  | 'variable'
  /** A system variable: `@@x`, `@@session.x`. */
  | 'sysvar'
  /** `(`, `)`, `,`, `.`, `;`. */
  | 'punct'
  /** Any other operator: `=`, `<=>`, `:=`, `+`, `->>`, … */
  | 'op';

/** One token. */
export interface Token {
  /** The kind of token. */
  readonly type: TokenType;
  /** Offset of the token's first character in the text. */
  readonly start: number;
  /** Offset just past the token's last character. */
  readonly end: number;
  /** For words: the word upper-cased. For punct and op: the text. Otherwise the empty string. */
  readonly upper: string;
  /** For `(`: the index of the matching `)` token, or the token count when unbalanced. Otherwise -1. */
  match: number;
}

/** What the lexer produced for a text. */
export interface LexResult {
  /** The tokens in order, comments removed. */
  readonly tokens: Token[];
  /** Offsets of the `?` placeholders, in order. */
  readonly placeholders: number[];
  /** Where each executable comment is, from `/*!` to `*\/`. */
  readonly executableComments: Span[];
  /** True when a string, quoted identifier or comment was not closed before the end of the text. */
  readonly unterminated: boolean;
  /** True when parentheses do not balance. */
  readonly unbalanced: boolean;
}

// Character codes used below.
const SPACE = 32;
const TAB = 9;
const LF = 10;
const VT = 11;
const FF = 12;
const CR = 13;
const BANG = 33;
const DQUOTE = 34;
const HASH = 35;
const DOLLAR = 36;
const SQUOTE = 39;
const LPAREN = 40;
const RPAREN = 41;
const STAR = 42;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const SLASH = 47;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const SEMICOLON = 59;
const QUESTION = 63;
const AT = 64;
const UPPER_A = 65;
const UPPER_Z = 90;
const BACKSLASH = 92;
const UNDERSCORE = 95;
const BACKTICK = 96;
const LOWER_A = 97;
const LOWER_Z = 122;

const MULTI_CHAR_OPERATORS = ['<=>', '->>', '<=', '>=', '<>', '!=', ':=', '||', '&&', '<<', '>>', '->'];

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR || c === VT || c === FF;
}

function isDigit(c: number): boolean {
  return c >= DIGIT_0 && c <= DIGIT_9;
}

/** Characters allowed in an unquoted identifier: letters, digits, `$`, `_`, and anything beyond ASCII. */
function isWordChar(c: number): boolean {
  return (
    (c >= LOWER_A && c <= LOWER_Z) ||
    (c >= UPPER_A && c <= UPPER_Z) ||
    isDigit(c) ||
    c === UNDERSCORE ||
    c === DOLLAR ||
    c >= 0x80
  );
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= UPPER_A && c <= 70) || (c >= LOWER_A && c <= 102);
}

/**
 * Splits SQL text into tokens. Never throws.
 *
 * @param sql - The SQL text, as the caller passed it.
 */
export function lex(sql: string): LexResult {
  const tokens: Token[] = [];
  const placeholders: number[] = [];
  const executableComments: Span[] = [];
  let unterminated = false;
  // Start offset of the executable comment we are inside, or -1.
  let executableStart = -1;
  const n = sql.length;
  let i = 0;

  const push = (type: TokenType, start: number, end: number, upper: string): void => {
    tokens.push({ type, start, end, upper, match: -1 });
  };

  /** Scans a quoted run starting at the opening quote; returns the offset after the closing quote. */
  const scanQuoted = (from: number, quote: number, backslashEscapes: boolean): number => {
    let j = from + 1;
    while (j < n) {
      const c = sql.charCodeAt(j);
      if (backslashEscapes && c === BACKSLASH) {
        j += 2;
        continue;
      }
      if (c === quote) {
        if (sql.charCodeAt(j + 1) === quote) {
          j += 2;
          continue;
        }
        return j + 1;
      }
      j++;
    }
    unterminated = true;
    return n;
  };

  while (i < n) {
    const c = sql.charCodeAt(i);

    if (isSpace(c)) {
      i++;
      continue;
    }

    // Comments.
    if (c === HASH || (c === MINUS && sql.charCodeAt(i + 1) === MINUS && (i + 2 >= n || isSpace(sql.charCodeAt(i + 2)) || sql.charCodeAt(i + 2) < SPACE))) {
      while (i < n && sql.charCodeAt(i) !== LF) i++;
      continue;
    }
    if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      const bang = sql.charCodeAt(i + 2) === BANG;
      // MariaDB honours only an upper-case M (`/*M!`); `/*m!` is an ordinary comment.
      const mariaBang = sql.charCodeAt(i + 2) === 77 && sql.charCodeAt(i + 3) === BANG;
      if ((bang || mariaBang) && executableStart < 0) {
        // Executable comment: its content is code. Skip the marker and the optional version number.
        executableStart = i;
        i += bang ? 3 : 4;
        while (i < n && isDigit(sql.charCodeAt(i))) i++;
        continue;
      }
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) {
        unterminated = true;
        i = n;
      } else {
        i = close + 2;
      }
      continue;
    }
    if (c === STAR && sql.charCodeAt(i + 1) === SLASH && executableStart >= 0) {
      executableComments.push({ start: executableStart, end: i + 2 });
      executableStart = -1;
      i += 2;
      continue;
    }

    // Strings, with optional N or _charset introducers already pushed as a word: merge them.
    if (c === SQUOTE || c === DQUOTE) {
      const end = scanQuoted(i, c, true);
      const prev = tokens[tokens.length - 1];
      if (prev !== undefined && prev.type === 'word' && isIntroducer(sql, prev)) {
        tokens[tokens.length - 1] = { type: 'string', start: prev.start, end, upper: '', match: -1 };
      } else {
        push('string', i, end, '');
      }
      i = end;
      continue;
    }
    if (c === BACKTICK) {
      const end = scanQuoted(i, BACKTICK, false);
      push('ident', i, end, '');
      i = end;
      continue;
    }

    // Placeholders: `?` and mysql2's `??`.
    if (c === QUESTION) {
      const len = sql.charCodeAt(i + 1) === QUESTION ? 2 : 1;
      placeholders.push(i);
      push('placeholder', i, i + len, '');
      i += len;
      continue;
    }

    // Variables.
    if (c === AT) {
      if (sql.charCodeAt(i + 1) === AT) {
        let j = i + 2;
        while (j < n && (isWordChar(sql.charCodeAt(j)) || sql.charCodeAt(j) === DOT)) j++;
        if (sql.charCodeAt(j) === BACKTICK) j = scanQuoted(j, BACKTICK, false);
        push('sysvar', i, j, '');
        i = j;
        continue;
      }
      const q = sql.charCodeAt(i + 1);
      let j = i + 1;
      if (q === SQUOTE || q === DQUOTE || q === BACKTICK) {
        j = scanQuoted(i + 1, q, q !== BACKTICK);
      } else {
        while (j < n && (isWordChar(sql.charCodeAt(j)) || sql.charCodeAt(j) === DOT)) j++;
      }
      push('variable', i, j, '');
      i = j;
      continue;
    }

    // Hex and bit literals: X'..', B'..', 0x.., 0b..
    if ((c === 88 || c === 120 || c === 66 || c === 98) && sql.charCodeAt(i + 1) === SQUOTE) {
      const end = scanQuoted(i + 1, SQUOTE, false);
      push('hex', i, end, '');
      i = end;
      continue;
    }
    if (c === DIGIT_0 && (sql.charCodeAt(i + 1) === 120 || sql.charCodeAt(i + 1) === 98)) {
      const hex = sql.charCodeAt(i + 1) === 120;
      let j = i + 2;
      while (j < n && (hex ? isHexDigit(sql.charCodeAt(j)) : sql.charCodeAt(j) === DIGIT_0 || sql.charCodeAt(j) === 49)) j++;
      if (j > i + 2 && (j >= n || !isWordChar(sql.charCodeAt(j)))) {
        push('hex', i, j, '');
        i = j;
        continue;
      }
      // Otherwise an identifier such as `0xyz`: fall through to words.
    }

    // Numbers, and identifiers that start with digits (`1abc` is a valid identifier).
    if (isDigit(c) || (c === DOT && isDigit(sql.charCodeAt(i + 1)) && !endsQualifier(tokens))) {
      let j = i;
      while (j < n && isDigit(sql.charCodeAt(j))) j++;
      if (sql.charCodeAt(j) === DOT && (j === i || isDigit(sql.charCodeAt(j + 1)) || !isWordChar(sql.charCodeAt(j + 1)))) {
        j++;
        while (j < n && isDigit(sql.charCodeAt(j))) j++;
      }
      const e = sql.charCodeAt(j);
      if (e === 69 || e === 101) {
        let k = j + 1;
        const sign = sql.charCodeAt(k);
        if (sign === 43 || sign === MINUS) k++;
        if (isDigit(sql.charCodeAt(k))) {
          while (k < n && isDigit(sql.charCodeAt(k))) k++;
          j = k;
        }
      }
      if (j < n && isWordChar(sql.charCodeAt(j)) && c !== DOT) {
        while (j < n && isWordChar(sql.charCodeAt(j))) j++;
        push('word', i, j, sql.slice(i, j).toUpperCase());
      } else {
        push('number', i, j, '');
      }
      i = j;
      continue;
    }

    if (isWordChar(c)) {
      let j = i + 1;
      while (j < n && isWordChar(sql.charCodeAt(j))) j++;
      push('word', i, j, sql.slice(i, j).toUpperCase());
      i = j;
      continue;
    }

    if (c === LPAREN || c === RPAREN || c === COMMA || c === DOT || c === SEMICOLON) {
      push('punct', i, i + 1, sql[i] as string);
      i++;
      continue;
    }

    let op = '';
    for (const candidate of MULTI_CHAR_OPERATORS) {
      if (sql.startsWith(candidate, i)) {
        op = candidate;
        break;
      }
    }
    if (op === '') op = sql[i] as string;
    push('op', i, i + op.length, op);
    i += op.length;
  }

  if (executableStart >= 0) {
    // An executable comment left open is still code the server would run (or reject).
    executableComments.push({ start: executableStart, end: n });
    unterminated = true;
  }

  const unbalanced = matchParens(tokens);
  return { tokens, placeholders, executableComments, unterminated, unbalanced };
}

/** True when the previous token makes a following `.5` a qualifier dot, not a number (`t.5col`). */
function endsQualifier(tokens: Token[]): boolean {
  const prev = tokens[tokens.length - 1];
  return prev !== undefined && (prev.type === 'word' || prev.type === 'ident');
}

/** True when a word directly before a string is a character set introducer (`_utf8mb4'x'`, `N'x'`). */
function isIntroducer(sql: string, word: Token): boolean {
  if (word.upper === 'N') return word.end === sql.length || sql.charCodeAt(word.end) === SQUOTE;
  return sql.charCodeAt(word.start) === UNDERSCORE && word.end - word.start > 1;
}

/** Fills `match` for every `(`; returns true when the parentheses do not balance. */
function matchParens(tokens: Token[]): boolean {
  const stack: number[] = [];
  let unbalanced = false;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k] as Token;
    if (t.type !== 'punct') continue;
    if (t.upper === '(') {
      stack.push(k);
    } else if (t.upper === ')') {
      const open = stack.pop();
      if (open === undefined) unbalanced = true;
      else (tokens[open] as Token).match = k;
    }
  }
  for (const open of stack) {
    (tokens[open] as Token).match = tokens.length;
    unbalanced = true;
  }
  return unbalanced;
}
