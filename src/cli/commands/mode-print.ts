/**
 * What `dualwrite mode` prints: the flag document, the precondition checks, and audit entries.
 *
 * @module
 */
import type { CutoverCheckResult } from '../../errors.js';
import type { AuditEntry } from '../../mode/redis-audit.js';
import type { FlagDocument } from '../../mode/redis-flag-document.js';
import type { Output } from '../output.js';

/** Prints the flag document (lines, and a `document` JSON event). */
export function printDocument(output: Output, document: FlagDocument, where: string): void {
  output.print(`mode: ${document.mode} (revision ${document.revision}${document.source === undefined ? '' : `, set by ${document.source}`}${document.updatedAt === undefined ? '' : ` at ${new Date(document.updatedAt).toISOString()}`}) in ${where}`);
  const tables = Object.entries(document.tableModes ?? {});
  output.print(tables.length === 0 ? 'table modes: none' : `table modes: ${tables.map(([table, mode]) => `${table}=${mode}`).join(', ')}`);
  output.print(`read routing: ${document.readRouting === undefined ? 'default' : JSON.stringify(document.readRouting)}`);
  output.event('document', { where, ...document });
}

/** Prints each precondition check (lines, and `check` JSON events). */
export function printChecks(output: Output, checks: readonly CutoverCheckResult[]): void {
  for (const check of checks) {
    output.print(`check ${check.check}: ${check.passed ? 'passed' : 'FAILED'}: ${check.detail}${check.passed || check.remedy === undefined ? '' : ` — ${check.remedy}`}`);
    output.event('check', { ...check });
  }
}

/** One audit entry as a line: when, who, outcome, from → to, table, revision, reason. */
export function auditLine(entry: AuditEntry): string {
  const what = `${entry.from ?? '(none)'} → ${entry.to}${entry.table === null ? '' : ` for ${entry.table}`}`;
  return `${new Date(entry.at).toISOString()} ${entry.actor ?? '(unknown)'} ${entry.outcome} ${what}${entry.revision === null ? '' : ` (revision ${entry.revision})`}${entry.reason === null ? '' : `: ${entry.reason}`}`;
}
