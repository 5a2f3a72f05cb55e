/**
 * DDL statements: what kind of object they change and which tables, so the
 * pool can refuse or apply them on both sides and drop stale table metadata.
 *
 * @module
 */
import { type Context, addFinding, findTop, isSymbol, qualifiedNameAt, splitTop, tableRef, wordAt } from './context.js';
import type { DdlAnalysis, TableRef } from './types.js';

/** Modifiers that may stand between CREATE/ALTER/DROP and the object keyword. */
const MODIFIERS = new Set(['TEMPORARY', 'UNIQUE', 'FULLTEXT', 'SPATIAL', 'ONLINE', 'OFFLINE', 'IGNORE', 'AGGREGATE', 'EXTERNAL', 'UNDO']);
/** Object keywords a DDL statement names. */
const OBJECTS = new Set([
  'TABLE', 'TABLES', 'INDEX', 'VIEW', 'DATABASE', 'SCHEMA', 'TRIGGER', 'PROCEDURE', 'FUNCTION', 'EVENT', 'SEQUENCE',
  'TABLESPACE', 'SERVER', 'PACKAGE', 'LOGFILE', 'SPATIAL', 'RESOURCE',
]);

/** Skips `IF [NOT] EXISTS` at `i`. */
function skipIfExists(ctx: Context, at: number): number {
  let i = at;
  if (wordAt(ctx, i) === 'IF') {
    i++;
    if (wordAt(ctx, i) === 'NOT') i++;
    if (wordAt(ctx, i) === 'EXISTS') i++;
  }
  return i;
}

/** Skips `DEFINER = user`, `ALGORITHM = x`, `SQL SECURITY x`, `OR REPLACE` before the object keyword. */
function skipCreateOptions(ctx: Context, at: number, to: number): number {
  let i = at;
  while (i < to) {
    const w = wordAt(ctx, i);
    if (w === 'OR' && wordAt(ctx, i + 1) === 'REPLACE') i += 2;
    else if ((w === 'DEFINER' || w === 'ALGORITHM') && isSymbol(ctx, i + 1, '=')) {
      i += 2;
      // user forms: CURRENT_USER[()], 'name'@'host', name@host, `name`@`host`
      i++;
      if (isSymbol(ctx, i, '(')) i += 2;
      if (ctx.tokens[i]?.type === 'variable') i++;
    } else if (w === 'SQL' && wordAt(ctx, i + 1) === 'SECURITY') i += 3;
    else if (MODIFIERS.has(w)) i++;
    else break;
  }
  return i;
}

/** Analyzes CREATE, ALTER, DROP, RENAME or TRUNCATE in `[from, to)`. `null` when the object is not a schema object. */
export function analyzeDdl(ctx: Context, from: number, to: number): DdlAnalysis | null {
  const verb = wordAt(ctx, from);
  let i = from + 1;
  let temporary = false;
  if (verb === 'TRUNCATE') {
    if (wordAt(ctx, i) === 'TABLE') i++;
    const name = qualifiedNameAt(ctx, i);
    return { kind: 'truncate table', tables: name === null ? [] : [tableRef(name.schema, name.name, null)], temporary };
  }
  const optionsStart = i;
  i = skipCreateOptions(ctx, i, to);
  for (let k = optionsStart; k < i; k++) if (wordAt(ctx, k) === 'TEMPORARY') temporary = true;
  let object = wordAt(ctx, i);
  if (!OBJECTS.has(object)) return null;
  if (object === 'SCHEMA') object = 'DATABASE';
  if (object === 'TABLES') object = 'TABLE';
  const kind = `${verb} ${object}`.toLowerCase();
  i = skipIfExists(ctx, i + 1);
  const tables: TableRef[] = [];
  const add = (at: number): number => {
    const name = qualifiedNameAt(ctx, at);
    if (name === null) return at + 1;
    tables.push(tableRef(name.schema, name.name, null));
    return name.next;
  };

  if (object === 'TABLE') {
    if (verb === 'DROP' || verb === 'RENAME') {
      const end = verb === 'DROP' ? findTop(ctx, i, to, (j) => ['RESTRICT', 'CASCADE', 'WAIT', 'NOWAIT'].includes(wordAt(ctx, j))) : to;
      for (const [a, b] of splitTop(ctx, i, end)) {
        for (let k = a; k < b; ) {
          // RENAME TABLE a TO b: both names; skip the TO.
          if (wordAt(ctx, k) === 'TO' || wordAt(ctx, k) === 'AS') k++;
          else if (wordAt(ctx, k) === 'WAIT' || wordAt(ctx, k) === 'NOWAIT') k = b;
          else k = add(k);
        }
      }
    } else {
      const afterName = add(i);
      if (verb === 'ALTER') {
        // ALTER TABLE a RENAME [TO|AS] b: the new name is changed too.
        const renameAt = findTop(ctx, afterName, to, (j) => wordAt(ctx, j) === 'RENAME' && wordAt(ctx, j + 1) !== 'COLUMN' && wordAt(ctx, j + 1) !== 'INDEX' && wordAt(ctx, j + 1) !== 'KEY');
        if (renameAt < to) {
          let k = renameAt + 1;
          if (wordAt(ctx, k) === 'TO' || wordAt(ctx, k) === 'AS') k++;
          add(k);
        }
      } else if (verb === 'CREATE') {
        const selectAt = findTop(ctx, afterName, to, (j) => wordAt(ctx, j) === 'SELECT' || wordAt(ctx, j) === 'WITH' || (isSymbol(ctx, j, '(') && wordAt(ctx, j + 1) === 'SELECT'));
        if (selectAt < to) addFinding(ctx, 'insert_select', 'SELECT', selectAt, to);
      }
    }
  } else if (object === 'INDEX') {
    // CREATE INDEX name ON t (…) / DROP INDEX name ON t
    const onAt = findTop(ctx, i, to, (j) => wordAt(ctx, j) === 'ON');
    if (onAt < to) add(onAt + 1);
  }
  return { kind, tables, temporary };
}
