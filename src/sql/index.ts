/**
 * The statement analyzer: a MySQL/MariaDB lexer and a classifier that tells
 * the pool what each SQL text does. No I/O and no knowledge of pools.
 *
 * @module
 */
export type * from './types.js';
export { analyze } from './analyze.js';
export { StatementAnalyzer, type StatementAnalyzerOptions, type StatementAnalyzerStats } from './cache.js';
export { generatedIdRows, withExplicitIds, type AutoIncrementColumn, type ExplicitIdOptions, type ExplicitIdRewrite, type GeneratedId } from './rewrite-explicit-ids.js';
export { planNondeterministicPins, withPinnedValues, type PinEvaluation, type PinPlan, type PinSite, type PinnableFunction, type PinnedStatement } from './pin-nondeterministic.js';
