/**
 * `dualwrite/migrate`: the half of a zero-downtime migration that moves and checks the rows that existed before
 * dual-writing began — backfill (lossless keyset copy that never overwrites a newer row), verify (chunked
 * checksums on both sides, drill-down, re-check before reporting), checkpoints, throttles, and the lossless codec
 * they share.
 *
 * @packageDocumentation
 */
export { InvalidOptionError, TableNotFoundError, ReplayPlanError, CopyChangedValueError, DualWriteError } from '../errors.js';
export { AdaptiveChunkSizer } from './chunk-size.js';
export type { RepairLoop, RepairLoopCheckOptions, RepairSide, RepairKeysResult, RepairCounts, RepairSettingsOptions } from './repair-settings.js';
export {
  backfill,
  customQuery,
  pauseFlag,
  replicaLagAbove,
  threadsRunningAbove,
  type BackfillConnection,
  type BackfillOptions,
  type BackfillPool,
  type BackfillProgress,
  type BackfillReport,
  type BackfillTableReport,
  type ChunkSizeOptions,
  type ThrottleDecision,
  type ThrottleSignal,
} from './backfill.js';
export {
  verify,
  type Difference,
  type DifferenceKind,
  type TableVerifyReport,
  type VerifyConnection,
  type VerifyOptions,
  type VerifyPool,
  type VerifyReport,
  type NormalisedColumnReport,
} from './verify.js';
export { type NormalizationProfile, type NormalizationRule } from './normalize.js';
export { DEFAULT_VERIFY_CHECKPOINT_TABLE, VerifyCheckpointStore, type VerifyCheckpoint, type VerifyCounts } from './verify-checkpoints.js';
export { DEFAULT_VERIFY_RUNS_TABLE, latestVerifyRuns, recordVerifyRun, verifyRunsTable, type VerifyRun, type VerifyRunRecord } from './verify-runs.js';
export {
  verifyIncremental,
  verifyKeys,
  type IncrementalTableReport,
  type KeyedVerifyOptions,
  type VerifyIncrementalOptions,
  type VerifyIncrementalReport,
  type VerifyKeysOptions,
} from './verify-incremental.js';
export { CheckpointStore, DEFAULT_CHECKPOINT_TABLE, type Checkpoint, type CheckpointStoreOptions } from './checkpoints.js';
export { insertIgnoreRows, readExactRows, copyColumns, type ExactRows, type InsertIgnoreOptions } from './copy.js';
export { chunkChecksum, chunkChecksumQuery, parseChunkChecksum, rowHashes, rowHashesQuery, CHECKSUM_BUCKETS, type BucketChecksum, type ChunkChecksum, type HashOptions, type KeyRange, type RowHash } from './checksum.js';
export { keysetChunkQuery, keyOfRow, type KeysetChunkOptions, type KeysetChunkQuery, type KeyTuple, type SqlFragment } from './keyset.js';
export { columnReadExpression, decodeColumnValue, decodeExactRows, exactTypeCast, type CastField, type ExactQueryable, type ExactRow, type ExactValue } from './codec.js';
export { encodeKeyJson, decodeKeyTuple } from './key-json.js';
export {
  repair,
  repairKeys,
  DEFAULT_REPAIR_AUDIT_TABLE,
  RepairSchemaMismatchError,
  type RepairAction,
  type RepairAuditEntry,
  type RepairKeysOptions,
  type RepairOptions,
  type RepairReport,
  type TableRepairReport,
} from './repair.js';
export { drainRepairLog, DEFAULT_INTENT_GRACE_MS, DEFAULT_REPAIR_LOG_TABLE, type DrainProblem, type DrainRepairLogOptions, type DrainRepairLogResult } from './repair-log-drain.js';
