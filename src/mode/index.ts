/**
 * The run-time mode of the pool and where it comes from: the four modes,
 * flag providers (in memory, polling a user function, Redis, a JSON file), and the gate that
 * orders writes across a mode switch inside one process.
 *
 * @module
 */
export {
  MODES,
  isAdjacentSwitch,
  isMode,
  oppositeSide,
  parseMode,
  primarySide,
  secondarySide,
  writesBothSides,
  type Mode,
  type Side,
} from './modes.js';
export type { FlagListener, FlagProvider, FlagState, FlagStateLike, LoadedFlagProviderOptions, ReadRoutingSettings } from './flag-provider.js';
export { checkTableKey, checkTableModes, hasTableModes, isTableKey, isAdjacentStateSwitch, sameModes, tableMode, tableModeIndex, type TableModeIndex } from './table-modes.js';
export { InMemoryFlagProvider, type InMemoryFlagProviderOptions, type SetModeOptions } from './in-memory-flag-provider.js';
export {
  DEFAULT_POLL_INTERVAL_MS,
  PollingFlagProvider,
  type PolledFlag,
  type PollingFlagProviderOptions,
} from './polling-flag-provider.js';
export {
  DEFAULT_DRAIN_TIMEOUT_MS,
  ModeGate,
  type DrainTimeoutReport,
  type ModeGateOptions,
  type ModePin,
  type PinCounts,
  type SwitchInfo,
  type WriteTicket,
} from './switch-gate.js';
export { FileFlagProvider, type FileFlagProviderOptions } from './file-flag-provider.js';
export { formatOfPath, parseFlagFile, type FlagFileFormat } from './flag-file-format.js';
export { DEFAULT_REDIS_FLAG_KEY, type RedisClientLike, type RedisConnection } from './redis-client.js';
export { nodeRedisClient, type NodeRedisClient } from './node-redis-client.js';
export type { FlagDocument } from './redis-flag-document.js';
export { auditKey, DEFAULT_AUDIT_LENGTH, type AuditEntry, type AuditOutcome } from './redis-audit.js';
export {
  RedisFlagProvider,
  type AppliedStateSource,
  type InstanceAck,
  type InstanceCounters,
  type PoolCountersSource,
  type RedisFlagProviderOptions,
  type RedisFlagState,
  type RedisFlagStatus,
} from './redis-flag-provider.js';
export {
  RedisModeController,
  SwitchNotAppliedError,
  type FlagValues,
  type RedisModeControllerOptions,
  type SwitchModeOptions,
  type SwitchReport,
} from './redis-mode-controller.js';
