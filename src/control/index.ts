/**
 * The control surface of a migration: guarded cut-over (preconditions, audit, automatic fall-back).
 *
 * @module
 */
export { CutoverGuard, type CutoverGuardOptions, type GuardedSwitchOptions, type GuardedSwitchResult } from './cutover-guard.js';
export { checkBacklog, checkFleetApplied, checkRecentVerify, type GuardQueryable } from './cutover-checks.js';
export { checkFallback, watchForFallback, type CheckedFallback, type FallbackOptions, type FallbackOutcome, type FallbackWatch, type WatchedSwitch } from './fallback-watch.js';
