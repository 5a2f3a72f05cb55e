/**
 * The `telemetry` option of `createPool()`, and loading `@opentelemetry/api` only when it is asked for.
 *
 * @module
 */
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import type { Meter, Tracer } from '@opentelemetry/api';
import { DualWriteError, InvalidOptionError } from '../errors.js';

/**
 * OpenTelemetry settings of a pool. Every field is optional: `{}` behaves as `telemetry: true`.
 *
 * The pool uses `@opentelemetry/api` only (an optional peer dependency, loaded when telemetry is turned on); the
 * application wires an SDK (a tracer provider with a context manager, a meter provider), as for any instrumented
 * library. Without a registered context manager spans still come out, but not nested.
 */
export interface TelemetryOptions {
  /**
   * The tracer for the pool's spans, `false` for no spans.
   * @defaultValue `trace.getTracer('dualwrite')` of the globally registered provider
   */
  readonly tracer?: Tracer | false;
  /**
   * The meter for the pool's metrics, `false` for no metrics.
   * @defaultValue `metrics.getMeter('dualwrite')` of the globally registered provider
   */
  readonly meter?: Meter | false;
  /**
   * Report the repair-log backlog (`dualwrite.repair_log.backlog`): on each metric collection the pool runs
   * `SELECT COUNT(*) … WHERE repaired_at IS NULL` on the repair log of each side (an index range scan over the
   * pending rows, so its cost grows with the backlog). Off by default: a collection then costs no query.
   * @defaultValue false
   */
  readonly repairLogBacklog?: boolean;
}

/** `createPool({ telemetry })`: `true` for the global tracer and meter, an object to choose, `false`/absent for none. */
export type TelemetryOption = boolean | TelemetryOptions;

/** The OpenTelemetry objects a pool uses, once resolved. */
export interface ResolvedTelemetry {
  readonly api: typeof OtelApi;
  readonly tracer: Tracer | null;
  readonly meter: Meter | null;
  readonly repairLogBacklog: boolean;
}

/**
 * Resolves the `telemetry` option, loading `@opentelemetry/api` when telemetry is on.
 *
 * @returns `null` when telemetry is off (nothing is loaded)
 * @throws {@link InvalidOptionError} for a bad value; {@link DualWriteError} `ER_DUALWRITE_TELEMETRY_UNAVAILABLE` when
 *   `@opentelemetry/api` is not installed
 */
export function resolveTelemetry(option: unknown): ResolvedTelemetry | null {
  if (option === undefined || option === false) return null;
  if (option !== true && (option === null || typeof option !== 'object')) {
    throw new InvalidOptionError('createPool telemetry', option, 'true, false, or an object { tracer?, meter?, repairLogBacklog? }');
  }
  const given: TelemetryOptions = option === true ? {} : option;
  const { tracer, meter, repairLogBacklog } = given;
  if (tracer !== undefined && tracer !== false && typeof (tracer as Partial<Tracer>)?.startSpan !== 'function') {
    throw new InvalidOptionError('createPool telemetry.tracer', tracer, 'an OpenTelemetry Tracer (with startSpan), or false for no spans');
  }
  if (meter !== undefined && meter !== false && typeof (meter as Partial<Meter>)?.createHistogram !== 'function') {
    throw new InvalidOptionError('createPool telemetry.meter', meter, 'an OpenTelemetry Meter (with createHistogram), or false for no metrics');
  }
  if (repairLogBacklog !== undefined && typeof repairLogBacklog !== 'boolean') {
    throw new InvalidOptionError('createPool telemetry.repairLogBacklog', repairLogBacklog, 'true or false');
  }
  const api = loadApi();
  return {
    api,
    tracer: tracer === false ? null : (tracer ?? api.trace.getTracer('dualwrite')),
    meter: meter === false ? null : (meter ?? api.metrics.getMeter('dualwrite')),
    repairLogBacklog: repairLogBacklog ?? false,
  };
}

/** Loads `@opentelemetry/api` synchronously (it keeps its state in a process-wide global, so any copy of it sees the app's SDK). */
function loadApi(): typeof OtelApi {
  // Resolved from this file: `import.meta.url` in the ES module build; the CommonJS build has an empty `import.meta`
  // and its `__filename` instead.
  const load = createRequire((import.meta as { url?: string }).url ?? __filename);
  try {
    return load('@opentelemetry/api') as typeof OtelApi;
  } catch (error) {
    throw new DualWriteError(
      'ER_DUALWRITE_TELEMETRY_UNAVAILABLE',
      'createPool telemetry is on, but the package @opentelemetry/api could not be loaded. Nothing was created. Install it ' +
        '(`npm install @opentelemetry/api`) next to dualwrite, or leave `telemetry` out.',
      { cause: error },
    );
  }
}
