/**
 * Transaction control (BEGIN, START TRANSACTION, COMMIT, ROLLBACK, savepoints,
 * SET autocommit, SET TRANSACTION) and session statements (SET, USE), which
 * the pool must track to keep both sides in matching transactions.
 *
 * @module
 */
import { type Context, identifierAt, isSymbol, notUnderstood, splitTop, wordAt } from './context.js';
import type { SessionControl, TransactionControl } from './types.js';

/** The outcome of a control statement: exactly one of the two is set, or neither when not understood. */
export interface ControlOutcome {
  /** Transaction control, when the statement is one. */
  readonly transaction: TransactionControl | null;
  /** Session control, when the statement is one. */
  readonly session: SessionControl | null;
}

const NONE: ControlOutcome = { transaction: null, session: null };

function tx(transaction: TransactionControl): ControlOutcome {
  return { transaction, session: null };
}

/** Reads `[AND [NO] CHAIN] [[NO] RELEASE]` from `i`. */
function chainRelease(ctx: Context, at: number): { chain: boolean; release: boolean; next: number } {
  let i = at;
  let chain = false;
  let release = false;
  if (wordAt(ctx, i) === 'AND') {
    const no = wordAt(ctx, i + 1) === 'NO';
    if (wordAt(ctx, i + (no ? 2 : 1)) === 'CHAIN') {
      chain = !no;
      i += no ? 3 : 2;
    }
  }
  if (wordAt(ctx, i) === 'NO' && wordAt(ctx, i + 1) === 'RELEASE') i += 2;
  else if (wordAt(ctx, i) === 'RELEASE') {
    release = true;
    i++;
  }
  return { chain, release, next: i };
}

/** Analyzes BEGIN, START TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT, RELEASE SAVEPOINT in `[from, to)`. */
export function analyzeTransaction(ctx: Context, from: number, to: number): ControlOutcome {
  const verb = wordAt(ctx, from);
  let i = from + 1;
  const name = (at: number): string | null => identifierAt(ctx, at);
  const end = (at: number, what: string): boolean => {
    if (at >= to) return true;
    notUnderstood(ctx, what, at);
    return false;
  };

  switch (verb) {
    case 'BEGIN': {
      if (wordAt(ctx, i) === 'WORK') i++;
      return end(i, 'BEGIN') ? tx({ kind: 'begin', readOnly: false, consistentSnapshot: false }) : NONE;
    }
    case 'START': {
      if (wordAt(ctx, i) !== 'TRANSACTION') return NONE;
      let readOnly = false;
      let consistentSnapshot = false;
      for (const [a, b] of splitTop(ctx, i + 1, to)) {
        const words = [];
        for (let k = a; k < b; k++) words.push(wordAt(ctx, k));
        const text = words.join(' ');
        if (text === 'READ ONLY') readOnly = true;
        else if (text === 'WITH CONSISTENT SNAPSHOT') consistentSnapshot = true;
        else if (text !== 'READ WRITE') {
          notUnderstood(ctx, 'START TRANSACTION option', a);
          return NONE;
        }
      }
      return tx({ kind: 'begin', readOnly, consistentSnapshot });
    }
    case 'COMMIT':
    case 'ROLLBACK': {
      if (wordAt(ctx, i) === 'WORK') i++;
      if (verb === 'ROLLBACK' && wordAt(ctx, i) === 'TO') {
        i++;
        if (wordAt(ctx, i) === 'SAVEPOINT') i++;
        const savepoint = name(i);
        if (savepoint === null || !end(i + 1, 'ROLLBACK TO')) return NONE;
        return tx({ kind: 'rollback_to_savepoint', name: savepoint });
      }
      const options = chainRelease(ctx, i);
      if (!end(options.next, verb)) return NONE;
      return tx({ kind: verb === 'COMMIT' ? 'commit' : 'rollback', chain: options.chain, release: options.release });
    }
    case 'SAVEPOINT': {
      const savepoint = name(i);
      if (savepoint === null || !end(i + 1, 'SAVEPOINT')) return NONE;
      return tx({ kind: 'savepoint', name: savepoint });
    }
    case 'RELEASE': {
      if (wordAt(ctx, i) !== 'SAVEPOINT') return NONE;
      const savepoint = name(i + 1);
      if (savepoint === null || !end(i + 2, 'RELEASE SAVEPOINT')) return NONE;
      return tx({ kind: 'release_savepoint', name: savepoint });
    }
    default:
      return NONE;
  }
}

const SCOPES = new Set(['GLOBAL', 'SESSION', 'LOCAL', 'PERSIST', 'PERSIST_ONLY']);
const GLOBAL_SCOPES = new Set(['GLOBAL', 'PERSIST', 'PERSIST_ONLY']);

/** One variable named by a SET item. */
interface SetTarget {
  readonly name: string;
  readonly global: boolean;
  /** Index of the first token of the assigned value. */
  readonly valueAt: number;
}

/** Reads the variable a SET item assigns, from tokens `[a, b)`. */
function setTarget(ctx: Context, a: number, b: number): SetTarget | null {
  const t = ctx.tokens[a];
  if (t === undefined) return null;
  const eqAt = (k: number): number => (isSymbol(ctx, k, '=') || isSymbol(ctx, k, ':=') ? k + 1 : k);
  if (t.type === 'variable') return { name: ctx.sql.slice(t.start, t.end).toLowerCase(), global: false, valueAt: eqAt(a + 1) };
  if (t.type === 'sysvar') {
    // Assigning a system variable is not reading one: keep it out of the `system_variable` findings.
    ctx.names.add(a);
    const raw = ctx.sql.slice(t.start + 2, t.end).toLowerCase();
    const dot = raw.indexOf('.');
    const scope = dot >= 0 ? raw.slice(0, dot).toUpperCase() : '';
    const base = dot >= 0 && SCOPES.has(scope) ? raw.slice(dot + 1) : raw;
    return { name: base.replaceAll('`', ''), global: GLOBAL_SCOPES.has(scope), valueAt: eqAt(a + 1) };
  }
  let i = a;
  let global = false;
  if (SCOPES.has(wordAt(ctx, i))) {
    global = GLOBAL_SCOPES.has(wordAt(ctx, i));
    i++;
  }
  const w = wordAt(ctx, i);
  if (w === 'NAMES') return { name: 'names', global, valueAt: i + 1 };
  if (w === 'CHARSET') return { name: 'character set', global, valueAt: i + 1 };
  if (w === 'CHARACTER' && wordAt(ctx, i + 1) === 'SET') return { name: 'character set', global, valueAt: i + 2 };
  const varName = identifierAt(ctx, i);
  if (varName === null || i + 1 > b) return null;
  // `SET x.y = …` names a structured variable (key cache components); keep it whole.
  if (isSymbol(ctx, i + 1, '.')) {
    const rest = identifierAt(ctx, i + 2);
    return { name: `${varName}.${rest ?? ''}`.toLowerCase(), global, valueAt: eqAt(i + 3) };
  }
  return { name: varName.toLowerCase(), global, valueAt: eqAt(i + 1) };
}

/** Evaluates an autocommit value: 0/1, ON/OFF, TRUE/FALSE, '0'/'1'/'ON'/'OFF'; `null` for anything else. */
function autocommitValue(ctx: Context, a: number, b: number): boolean | null {
  if (b - a !== 1) return null;
  const t = ctx.tokens[a];
  if (t === undefined) return null;
  let text = t.type === 'word' ? t.upper : t.type === 'number' ? ctx.sql.slice(t.start, t.end) : t.type === 'string' ? (identifierAt(ctx, a) ?? '').toUpperCase() : '';
  if (text === 'TRUE') text = '1';
  if (text === 'FALSE') text = '0';
  if (text === '1' || text === 'ON') return true;
  if (text === '0' || text === 'OFF') return false;
  return null;
}

/** Analyzes a SET statement in `[from, to)`: transaction control for autocommit and TRANSACTION, otherwise session. */
export function analyzeSet(ctx: Context, from: number, to: number): ControlOutcome {
  let i = from + 1;
  let scope: 'next' | 'session' | 'global' = 'next';
  if (SCOPES.has(wordAt(ctx, i)) && wordAt(ctx, i + 1) === 'TRANSACTION') {
    scope = GLOBAL_SCOPES.has(wordAt(ctx, i)) ? 'global' : 'session';
    i++;
  }
  if (wordAt(ctx, i) === 'TRANSACTION') return tx({ kind: 'set_transaction', scope });

  const variables: string[] = [];
  let global = false;
  let autocommit: { value: boolean | null } | null = null;
  for (const [a, b] of splitTop(ctx, from + 1, to)) {
    const target = setTarget(ctx, a, b);
    if (target === null) {
      notUnderstood(ctx, 'SET', a);
      return NONE;
    }
    variables.push(target.name);
    global ||= target.global;
    // SET GLOBAL autocommit only changes the default of new sessions, not this one's transaction state.
    if (target.name === 'autocommit' && !target.global) autocommit = { value: autocommitValue(ctx, target.valueAt, b) };
  }
  if (autocommit !== null) return tx({ kind: 'set_autocommit', value: autocommit.value });
  return { transaction: null, session: { kind: 'set', variables, global } };
}

/** Analyzes `USE db`. */
export function analyzeUse(ctx: Context, from: number, to: number): ControlOutcome {
  const schema = identifierAt(ctx, from + 1);
  if (schema === null || from + 2 < to) {
    notUnderstood(ctx, 'USE', from);
    return NONE;
  }
  return { transaction: null, session: { kind: 'use', schema } };
}
