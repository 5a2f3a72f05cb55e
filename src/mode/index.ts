/**
 * The run-time mode of the pool and where it comes from: the four modes,
 * flag providers (in memory, polling a user function), and the gate that
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
export type { FlagListener, FlagProvider, FlagState, FlagStateLike, ReadRoutingSettings } from './flag-provider.js';
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
