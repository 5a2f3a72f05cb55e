/**
 * `createAdminHandler`: an HTTP handler the application mounts (not a server of its own) to see the migration's
 * state and switch the mode, protected by a bearer token the application supplies.
 *
 * Routes, under `basePath`:
 * - `GET status`: the pool's mode, flag state and counters; with a controller, the stored flags and which
 *   instances applied them.
 * - `GET mode`: the mode in force (the controller's stored flags, else the pool's state).
 * - `POST mode` with `{"mode": …, "table"?: "schema.table", "wait"?: true, "timeoutMs"?: n, "actor"?: "name"}`:
 *   switches through the controller, or through the pool's `setMode()` when only a pool is given.
 * - `GET audit?limit=n`: the controller's audit trail, when it keeps one.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DualWriteError, type DualWriteErrorOptions } from '../errors.js';
import type { FlagState } from '../mode/flag-provider.js';
import { isMode, MODES, type Mode } from '../mode/modes.js';
import { AdminRequestError, bearerMatches, readJsonBody, scrub, sendJson, toJson, tokenDigests } from './admin-http.js';

/** Shortest token {@link createAdminHandler} accepts. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

/** Default of {@link AdminHandlerOptions.maxBodyBytes}. */
export const DEFAULT_ADMIN_MAX_BODY_BYTES = 16 * 1024;

/** What the admin handler passes to {@link ModeSwitcher.switchMode}. */
export interface AdminSwitchOptions {
  /** Who switches, for the audit: `admin-http` or `admin-http:<actor>`. */
  readonly source: string;
  /** Switch one table (`schema.table`) instead of the whole pool. */
  readonly table?: string;
  /** Resolve once every live instance applied the switch. */
  readonly wait?: boolean;
  /** With `wait`: how long to wait, in milliseconds. */
  readonly timeoutMs?: number;
}

/**
 * What switches the mode for the admin handler. `RedisModeController` and `CutoverGuard` (guarded switching) fit
 * as they are; anything else with these methods can be plugged in.
 */
export interface ModeSwitcher {
  /** Switches; the resolved value is sent back as JSON (functions and promises left out). Errors become 4xx/5xx answers. */
  switchMode(mode: Mode, options: AdminSwitchOptions): Promise<unknown>;
  /** The stored flags (mode, revision, table modes, read routing), or `null` when none are stored. */
  get?(): Promise<unknown>;
  /** Which instances applied the stored flags. */
  status?(): Promise<unknown>;
  /** The newest audit entries, newest first. */
  audit?(limit?: number): Promise<readonly unknown[]>;
}

/** The parts of a dual-write pool (callback or promise view) the admin handler uses. */
export interface AdminPool {
  /** The mode in force for new writes. */
  readonly mode: Mode;
  /** The flag state in force. */
  readonly flagState: FlagState;
  /** Counters since the pool was created. */
  stats(): unknown;
  /** Switches the mode of a pool using its built-in in-memory flags. */
  setMode(mode: Mode, options?: { source?: string; table?: string }): Promise<FlagState>;
}

/** Options of {@link createAdminHandler}. */
export interface AdminHandlerOptions {
  /**
   * The bearer token every request must send (`Authorization: Bearer <token>`), at least
   * {@link MIN_ADMIN_TOKEN_LENGTH} characters; a list accepts each (to rotate tokens without downtime).
   * Generate one with `openssl rand -hex 32` and keep it in your secret store.
   */
  readonly token: string | readonly string[];
  /** The pool of this process: its mode, state and counters in `status`; switched by `POST mode` when no controller is given. */
  readonly pool?: AdminPool;
  /** Switches the mode for the fleet (a `RedisModeController`, a `CutoverGuard`, or your own {@link ModeSwitcher}). */
  readonly controller?: ModeSwitcher;
  /**
   * Path prefix of the routes, e.g. `/admin/dualwrite`. Requests outside it go to `next` (Express) or get 404.
   * Under Express's `app.use('/admin', handler)`, Express strips the mount path: leave this at its default.
   *
   * @defaultValue `''` (routes `/status`, `/mode`, `/audit`)
   */
  readonly basePath?: string;
  /** Largest request body accepted, in bytes (413 above). @defaultValue 16384 */
  readonly maxBodyBytes?: number;
  /**
   * Called with errors that are answered with 500 (their details are not sent to the client: log them here).
   *
   * @defaultValue none (the error is not logged)
   */
  readonly onError?: (error: unknown) => void;
}

/** A Node `(req, res)` request handler that also works as Express middleware `(req, res, next)`. */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/**
 * The admin handler was given options it cannot run with (no token, a short token, no pool or controller, …).
 * The message never contains the token.
 *
 * Code `ER_DUALWRITE_ADMIN_OPTIONS`.
 */
export class AdminHandlerOptionsError extends DualWriteError {
  /**
   * @param problem - what is wrong and what to do
   * @param options - `cause`: the underlying error
   */
  constructor(problem: string, options?: DualWriteErrorOptions) {
    super('ER_DUALWRITE_ADMIN_OPTIONS', `The admin handler was not created: ${problem}`, options);
  }
}

const BODY_FIELDS = new Set(['mode', 'table', 'wait', 'timeoutMs', 'actor']);
const MAX_ACTOR_LENGTH = 200;
const MAX_TIMEOUT_MS = 600_000;

/**
 * Creates the admin handler. It never serves without a token: creating it without one throws.
 *
 * @example
 * // Express
 * app.use('/admin/dualwrite', createAdminHandler({ token: process.env.DUALWRITE_ADMIN_TOKEN!, pool, controller }));
 * // node:http
 * const admin = createAdminHandler({ token, pool, basePath: '/admin/dualwrite' });
 * http.createServer((req, res) => admin(req, res, () => app(req, res)));
 *
 * @param options - see {@link AdminHandlerOptions}
 * @throws {@link AdminHandlerOptionsError} without a token of at least {@link MIN_ADMIN_TOKEN_LENGTH} characters,
 *   without a pool or a controller, or with a bad `basePath`, `maxBodyBytes` or `controller`
 */
export function createAdminHandler(options: AdminHandlerOptions): AdminHandler {
  if (typeof options !== 'object' || options === null) throw new AdminHandlerOptionsError('pass an options object with at least `token` and `pool` or `controller`.');
  const tokens = checkTokens(options.token);
  const { pool, controller } = options;
  if (pool === undefined && controller === undefined) throw new AdminHandlerOptionsError('give `pool`, `controller` or both: there is nothing to show or switch otherwise.');
  if (controller !== undefined && typeof controller?.switchMode !== 'function') {
    throw new AdminHandlerOptionsError('`controller` must have a switchMode(mode, options) method (a RedisModeController, a CutoverGuard, or a ModeSwitcher).');
  }
  if (pool !== undefined && (typeof pool?.setMode !== 'function' || typeof pool.stats !== 'function')) {
    throw new AdminHandlerOptionsError('`pool` must be a dual-write pool (createPool() of dualwrite, or its promise() view).');
  }
  const basePath = checkBasePath(options.basePath ?? '');
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_ADMIN_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 64) throw new AdminHandlerOptionsError(`\`maxBodyBytes\` must be a whole number of at least 64 (got ${String(maxBodyBytes)}).`);
  const digests = tokenDigests(tokens);
  const context: Context = { tokens, pool, controller, maxBodyBytes, onError: options.onError };

  return (req, res, next) => {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const route = routeOf(url.pathname, basePath);
    if (route === undefined) {
      if (next !== undefined) next();
      else sendJson(res, 404, toJson({ error: 'not_found', message: 'No such route.' }, tokens));
      return;
    }
    if (!bearerMatches(req.headers.authorization, digests)) {
      req.resume();
      sendJson(res, 401, toJson({ error: 'unauthorized', message: 'A valid bearer token is required.' }, tokens), { 'www-authenticate': 'Bearer' });
      return;
    }
    void serve(context, route, url, req, res).catch((error: unknown) => answerError(context, res, error));
  };
}

interface Context {
  readonly tokens: readonly string[];
  readonly pool: AdminPool | undefined;
  readonly controller: ModeSwitcher | undefined;
  readonly maxBodyBytes: number;
  readonly onError: ((error: unknown) => void) | undefined;
}

async function serve(context: Context, route: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const allowed = route === '/mode' ? ['GET', 'POST'] : route === '/status' || route === '/audit' ? ['GET'] : [];
  if (allowed.length === 0) {
    req.resume();
    throw new AdminRequestError(404, 'No such route: the routes are GET status, GET mode, POST mode and GET audit.', 'not_found');
  }
  if (!allowed.includes(method)) {
    req.resume();
    sendJson(res, 405, toJson({ error: 'method_not_allowed', message: `${route.slice(1)} accepts ${allowed.join(' and ')}.` }, context.tokens), { allow: allowed.join(', ') });
    return;
  }
  if (method === 'GET') req.resume();
  let body: unknown;
  if (route === '/status') body = await status(context);
  else if (route === '/audit') body = await audit(context, url);
  else if (method === 'GET') body = await currentMode(context);
  else body = await switchMode(context, await readJsonBody(req, context.maxBodyBytes));
  sendJson(res, 200, toJson(body, context.tokens));
}

async function status(context: Context): Promise<unknown> {
  const { pool, controller } = context;
  const answer: Record<string, unknown> = {};
  if (pool !== undefined) answer.pool = { mode: pool.mode, flagState: pool.flagState, stats: pool.stats() };
  if (controller !== undefined) {
    const flags = controller.get === undefined ? undefined : await controller.get();
    if (flags !== undefined) answer.flags = flags;
    // A controller with nothing stored yet has no fleet to report.
    if (controller.status !== undefined && flags !== null) answer.fleet = await controller.status();
  }
  return answer;
}

async function currentMode(context: Context): Promise<unknown> {
  const { pool, controller } = context;
  if (controller?.get !== undefined) {
    const flags = await controller.get();
    return flags === null ? { mode: null, message: 'No flags are stored yet: the instances use their initial mode.' } : flags;
  }
  if (pool !== undefined) return { ...pool.flagState, mode: pool.mode };
  throw new AdminRequestError(404, 'This controller cannot read the mode (it has no get() method); use GET status.', 'not_found');
}

async function audit(context: Context, url: URL): Promise<unknown> {
  const controller = context.controller;
  if (controller?.audit === undefined) throw new AdminRequestError(404, 'No audit trail: the handler was created without a controller that keeps one.', 'not_found');
  const text = url.searchParams.get('limit');
  const limit = text === null ? 50 : Number(text);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new AdminRequestError(400, `"limit" must be a whole number from 1 to 1000 (got ${JSON.stringify(text)}).`, 'bad_request');
  return { entries: await controller.audit(limit) };
}

async function switchMode(context: Context, body: Record<string, unknown>): Promise<unknown> {
  const request = checkSwitchRequest(body);
  const source = request.actor === undefined ? 'admin-http' : `admin-http:${request.actor}`;
  const { controller, pool } = context;
  if (controller !== undefined) {
    const options: AdminSwitchOptions = {
      source,
      ...(request.table === undefined ? {} : { table: request.table }),
      ...(request.wait === undefined ? {} : { wait: request.wait }),
      ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
    };
    return { switched: true, mode: request.mode, table: request.table ?? null, result: await controller.switchMode(request.mode, options) };
  }
  const state = await (pool as AdminPool).setMode(request.mode, { source, ...(request.table === undefined ? {} : { table: request.table }) });
  return { switched: true, mode: request.mode, table: request.table ?? null, flagState: state };
}

interface SwitchRequest {
  readonly mode: Mode;
  readonly table?: string;
  readonly wait?: boolean;
  readonly timeoutMs?: number;
  readonly actor?: string;
}

function checkSwitchRequest(body: Record<string, unknown>): SwitchRequest {
  const unknown = Object.keys(body).filter((key) => !BODY_FIELDS.has(key));
  if (unknown.length > 0) throw bad(`unknown field(s) ${unknown.map((key) => JSON.stringify(key.slice(0, 40))).join(', ')}; the fields are mode, table, wait, timeoutMs, actor.`);
  const { mode, table, wait, timeoutMs, actor } = body;
  if (!isMode(mode)) throw bad(`"mode" must be one of ${MODES.join(', ')} (got ${describe(mode)}).`);
  if (table !== undefined && (typeof table !== 'string' || !/^[^.\s]+\.[^.\s]+$/.test(table) || table.length > 200)) {
    throw bad(`"table" must be "schema.table", e.g. "shop.orders" (got ${describe(table)}).`);
  }
  if (wait !== undefined && typeof wait !== 'boolean') throw bad(`"wait" must be true or false (got ${describe(wait)}).`);
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS)) {
    throw bad(`"timeoutMs" must be a number of milliseconds above 0 and at most ${MAX_TIMEOUT_MS} (got ${describe(timeoutMs)}).`);
  }
  if (actor !== undefined && (typeof actor !== 'string' || actor.trim() === '' || actor.length > MAX_ACTOR_LENGTH)) {
    throw bad(`"actor" must be a non-empty name of at most ${MAX_ACTOR_LENGTH} characters (got ${describe(actor)}).`);
  }
  return {
    mode,
    ...(table === undefined ? {} : { table }),
    ...(wait === undefined ? {} : { wait }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(actor === undefined ? {} : { actor }),
  };
}

function bad(message: string): AdminRequestError {
  return new AdminRequestError(400, `Bad mode request: ${message}`, 'bad_request');
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (value === null) text = 'null';
  else if (Array.isArray(value)) text = 'an array';
  else if (typeof value === 'object') text = 'an object';
  else text = typeof value === 'number' || typeof value === 'boolean' ? String(value) : `a ${typeof value}`;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Maps an error to an answer: the request's own problems and dualwrite's refusals are explained, the rest is not. */
function answerError(context: Context, res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error instanceof AdminRequestError) {
    sendJson(res, error.status, toJson({ error: error.code, message: error.message }, context.tokens));
    return;
  }
  if (error instanceof DualWriteError) {
    const status = statusOf(error.code);
    if (status === 500) context.onError?.(error);
    const extra = error as DualWriteError & { checks?: unknown; report?: unknown };
    const body: Record<string, unknown> = { error: error.code, message: scrub(error.message, context.tokens) };
    if (extra.checks !== undefined) body.checks = extra.checks;
    if (extra.report !== undefined) body.report = extra.report;
    sendJson(res, status, toJson(body, context.tokens));
    return;
  }
  try {
    context.onError?.(error);
  } finally {
    sendJson(res, 500, toJson({ error: 'internal_error', message: 'The request failed; the details are in the application log (onError).' }, context.tokens));
  }
}

/** HTTP status for dualwrite's error codes: bad input 400, refusals 409, a switch not applied in time 504. */
function statusOf(code: string): number {
  switch (code) {
    case 'ER_DUALWRITE_INVALID_MODE':
    case 'ER_DUALWRITE_INVALID_OPTION':
      return 400;
    case 'ER_DUALWRITE_CUTOVER_REFUSED':
    case 'ER_DUALWRITE_EXTERNAL_FLAGS':
      return 409;
    case 'ER_DUALWRITE_SWITCH_NOT_APPLIED':
      return 504;
    default:
      return 500;
  }
}

function checkTokens(token: unknown): string[] {
  const list = typeof token === 'string' ? [token] : Array.isArray(token) ? (token as unknown[]) : undefined;
  if (list === undefined || list.length === 0 || token === '') {
    throw new AdminHandlerOptionsError(`no \`token\`. The handler never serves without one: pass a secret of at least ${MIN_ADMIN_TOKEN_LENGTH} characters (e.g. from \`openssl rand -hex 32\`, kept in your secret store).`);
  }
  return list.map((item, index) => {
    const which = list.length === 1 ? '`token`' : `\`token[${index}]\``;
    if (typeof item !== 'string') throw new AdminHandlerOptionsError(`${which} is not a string.`);
    if (item.length < MIN_ADMIN_TOKEN_LENGTH) throw new AdminHandlerOptionsError(`${which} has ${item.length} characters; at least ${MIN_ADMIN_TOKEN_LENGTH} are required (e.g. from \`openssl rand -hex 32\`).`);
    if (/\s/.test(item)) throw new AdminHandlerOptionsError(`${which} contains whitespace, which a bearer token cannot carry.`);
    return item;
  });
}

function checkBasePath(path: unknown): string {
  if (typeof path !== 'string' || (path !== '' && (!path.startsWith('/') || /[?#\s]/.test(path)))) {
    throw new AdminHandlerOptionsError(`\`basePath\` must be empty or a path starting with "/", e.g. "/admin/dualwrite" (got ${describe(path)}).`);
  }
  return path.replace(/\/+$/, '');
}

/** The route under `basePath` (`/status`, `/mode`, …), or `undefined` outside it. */
function routeOf(pathname: string, basePath: string): string | undefined {
  if (basePath !== '' && pathname !== basePath && !pathname.startsWith(`${basePath}/`)) return undefined;
  const rest = pathname.slice(basePath.length).replace(/\/+$/, '');
  return rest === '' ? '/' : rest;
}
