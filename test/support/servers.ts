/**
 * Private MariaDB/MySQL server processes for tests.
 *
 * `spawnServer()` starts a server of its own on a free port, in a temporary
 * directory under `os.tmpdir()` (prefix `dualwrite-`), with the binary log on
 * in ROW format. The system tables are created once per process (or once per
 * test run, when the global setup hands over a template through
 * `DUALWRITE_TEST_TEMPLATE_DATADIR`) and copied for each new server: running
 * `mariadb-install-db` takes a second or more, a copy a fraction of that.
 *
 * Every server started here dies with the process that started it: an 'exit'
 * hook kills the children, and a tiny detached watchdog shell kills the
 * server and removes its directory if the test process dies without running
 * its hooks (SIGKILL, crash).
 *
 * This file is test code: module-level state (the template, the set of live
 * servers) is deliberate here and is not allowed in src/.
 */
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { createConnection, type ConnectionOptions } from 'mysql2/promise';

const execFileAsync = promisify(execFile);

/** Environment variable through which the global setup hands its template datadir to test workers. */
export const TEMPLATE_ENV = 'DUALWRITE_TEST_TEMPLATE_DATADIR';
/** Environment variable that forces the server binary (a `mariadbd` or `mysqld` path). */
export const BINARY_ENV = 'DUALWRITE_TEST_SERVER_BINARY';

/** Redo log size used both when creating the template and when running servers (they must agree). */
const INNODB_LOG_FILE_SIZE = '32M';
const HOST = '127.0.0.1';

/** Which server program a binary is. */
export type ServerFlavor = 'mariadb' | 'mysql';

/** A server binary found on this machine. */
export interface ServerBinary {
  /** Absolute path of `mariadbd` / `mysqld`. */
  readonly path: string;
  /** MariaDB or MySQL, from `--version`. */
  readonly flavor: ServerFlavor;
  /** The `--version` line. */
  readonly version: string;
}

/** Options of {@link spawnServer}. */
export interface SpawnServerOptions {
  /** Label used in the temp dir name and in error messages. Default `server`. */
  name?: string;
  /** `--server-id`. Default: a number distinct from every other server this process spawned. */
  serverId?: number;
  /**
   * Extra server options passed as `--name=value` (after the defaults, which they override),
   * e.g. `{ innodb_autoinc_lock_mode: 2, auto_increment_increment: 2, binlog_format: 'MIXED' }`.
   * `true` is passed as `--name`, `false` as `--skip-name`.
   */
  settings?: Record<string, string | number | boolean>;
  /** A datadir prepared by {@link prepareTemplate} to copy. Default: the env var {@link TEMPLATE_ENV}, else one made once per process. */
  templateDir?: string;
  /** How long `start()` waits for the server to answer `SELECT 1`. Default 60 s. */
  startTimeoutMs?: number;
}

// ---------------------------------------------------------------------------
// Binaries

const SEARCH_DIRS = [
  '/usr/sbin',
  '/usr/local/sbin',
  '/usr/local/mysql/bin',
  '/usr/local/bin',
  '/usr/bin',
  '/opt/homebrew/bin',
  '/opt/homebrew/sbin',
];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Looks for the first of `names` in PATH, then in the usual install directories. */
export function findExecutable(names: readonly string[], extraDirs: readonly string[] = []): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs, ...SEARCH_DIRS];
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return null;
}

let cachedBinary: ServerBinary | null | undefined;

/** The MariaDB/MySQL server binary of this machine (`$DUALWRITE_TEST_SERVER_BINARY`, `mariadbd`, `mysqld`), or null. */
export function findServerBinary(): ServerBinary | null {
  if (cachedBinary !== undefined) return cachedBinary;
  const forced = process.env[BINARY_ENV];
  const path = forced && isExecutable(forced) ? forced : findExecutable(['mariadbd', 'mysqld']);
  if (path === null) {
    cachedBinary = null;
    return null;
  }
  let version = '';
  try {
    // Synchronous on purpose: runs once per process, takes a few ms, and lets skipIf() use it.
    version = execFileSync(path, ['--no-defaults', '--version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    cachedBinary = null;
    return null;
  }
  cachedBinary = { path, flavor: /mariadb/i.test(version) ? 'mariadb' : 'mysql', version };
  return cachedBinary;
}

/** True when this machine can run {@link spawnServer}. */
export function canSpawnServers(): boolean {
  return findServerBinary() !== null;
}

function requireBinary(): ServerBinary {
  const binary = findServerBinary();
  if (binary === null) {
    throw new Error(
      'No MariaDB/MySQL server binary (mariadbd or mysqld) was found in PATH or in /usr/sbin, /usr/local/sbin, /usr/local/mysql/bin, ' +
        'so a private test server cannot be started. Install one (`apt-get install mariadb-server`, `brew install mariadb`) ' +
        `or point ${BINARY_ENV} at the binary.`,
    );
  }
  return binary;
}

// ---------------------------------------------------------------------------
// Template datadir

let processTemplate: Promise<string> | undefined;

/** How long the last {@link prepareTemplate} took, for the curious. */
export const templateTimings: { installMs: number | null } = { installMs: null };

/**
 * Creates a fresh datadir with the system tables (root without password, no test database)
 * and returns its path. Callers copy it for each server; see {@link spawnServer}.
 */
export async function prepareTemplate(): Promise<string> {
  const binary = requireBinary();
  const dir = await mkdtemp(join(tmpdir(), 'dualwrite-template-'));
  trackTempDir(dir);
  const datadir = join(dir, 'data');
  const started = performance.now();
  try {
    if (binary.flavor === 'mysql') {
      await initializeMysql(binary, dir, datadir);
    } else {
      await installMariadb(binary, datadir);
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  templateTimings.installMs = performance.now() - started;
  return datadir;
}

async function installMariadb(binary: ServerBinary, datadir: string): Promise<void> {
  const script = findExecutable(['mariadb-install-db', 'mysql_install_db'], [dirname(binary.path), join(dirname(dirname(realpathSync(binary.path))), 'scripts')]);
  if (script === null) {
    throw new Error(
      `Found ${binary.path} but neither mariadb-install-db nor mysql_install_db, which create the system tables of a new server. ` +
        'Install the full server package (`apt-get install mariadb-server`, `brew install mariadb`).',
    );
  }
  const args = [
    '--no-defaults',
    `--datadir=${datadir}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    '--skip-name-resolve',
    `--innodb-log-file-size=${INNODB_LOG_FILE_SIZE}`,
    ...(isRoot() ? ['--user=root'] : []),
  ];
  try {
    await execFileAsync(script, args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (first) {
    // Tarball installs need --basedir; system packages work without it.
    const basedir = dirname(dirname(realpathSync(binary.path)));
    await rm(datadir, { recursive: true, force: true });
    try {
      await execFileAsync(script, [...args, `--basedir=${basedir}`], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    } catch {
      throw new Error(`${script} failed to create the system tables in ${datadir}: ${describeExecError(first)}`);
    }
  }
}

async function initializeMysql(binary: ServerBinary, dir: string, datadir: string): Promise<void> {
  // MySQL's root@localhost does not always match TCP connections from 127.0.0.1: add explicit accounts.
  const initFile = join(dir, 'init.sql');
  await writeFile(
    initFile,
    [
      "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';",
      "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;",
      "CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '';",
      "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;",
      '',
    ].join('\n'),
  );
  const args = ['--no-defaults', '--initialize-insecure', `--datadir=${datadir}`, `--init-file=${initFile}`, ...(isRoot() ? ['--user=root'] : [])];
  try {
    await execFileAsync(binary.path, args, { timeout: 180_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    throw new Error(`${binary.path} --initialize-insecure failed to create ${datadir}: ${describeExecError(error)}`);
  }
}

function describeExecError(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { message?: string; stderr?: string; stdout?: string };
    return [e.message, e.stderr?.slice(-2000), e.stdout?.slice(-2000)].filter(Boolean).join('\n');
  }
  return String(error);
}

async function resolveTemplate(explicit: string | undefined): Promise<string> {
  if (explicit) return explicit;
  const fromEnv = process.env[TEMPLATE_ENV];
  if (fromEnv && existsSync(join(fromEnv, 'mysql'))) return fromEnv;
  processTemplate ??= prepareTemplate().catch((error: unknown) => {
    processTemplate = undefined;
    throw error;
  });
  return processTemplate;
}

// ---------------------------------------------------------------------------
// Process bookkeeping: nothing outlives the test process.

const liveServers = new Set<SpawnedServer>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;
let nextServerId = 1000 + Math.floor(Math.random() * 1_000_000) * 10;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const server of liveServers) server.killSync();
    for (const dir of tempDirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort at exit
      }
    }
  });
}

function trackTempDir(dir: string): void {
  installExitHook();
  tempDirs.add(dir);
  startWatchdog(dir);
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * A detached shell that waits for this process to disappear, then kills the server whose pid is in
 * `<dir>/server.pid` (after checking its command line names `dir`) and removes `dir`. It exits by
 * itself when `dir` is removed.
 */
const WATCHDOG = `
parent="$1"; dir="$2"
while kill -0 "$parent" 2>/dev/null; do
  [ -d "$dir" ] || exit 0
  sleep 1
done
if [ -f "$dir/server.pid" ]; then
  pid=$(cat "$dir/server.pid" 2>/dev/null)
  if [ -n "$pid" ]; then
    if [ -r "/proc/$pid/cmdline" ]; then
      cmd=$(tr '\\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)
    else
      cmd=$(ps -o args= -p "$pid" 2>/dev/null)
    fi
    case "$cmd" in *"$dir"*) kill -9 "$pid" 2>/dev/null ;; esac
  fi
fi
rm -rf "$dir"
`;

function startWatchdog(dir: string): void {
  try {
    const child = spawn('sh', ['-c', WATCHDOG, 'dualwrite-watchdog', String(process.pid), dir], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // The exit hook still covers the ordinary cases.
  }
}

/** A port that was free a moment ago (bind port 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read a free port'))));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function normalizeOptionName(name: string): string {
  return name.replace(/^--/, '').replaceAll('-', '_').toLowerCase();
}

/** Options the harness manages itself; `settings` may not override them. */
const MANAGED = new Set(['datadir', 'port', 'socket', 'pid_file', 'bind_address', 'user', 'log_error', 'no_defaults', 'tmpdir']);

class ServerStartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = 'ServerStartError';
  }
}

// ---------------------------------------------------------------------------
// The server

/**
 * A private server process. Create with {@link spawnServer}; always `destroy()` it (the exit hook
 * and the watchdog are safety nets, not the plan).
 */
export class SpawnedServer {
  /** Always 127.0.0.1. */
  readonly host = HOST;
  /** Label given at creation. */
  readonly name: string;
  /** `--server-id`. */
  readonly serverId: number;
  /** Temp directory holding datadir, socket, pid file, error log. */
  readonly dir: string;
  /** The data directory (kept across stop/start). */
  readonly datadir: string;
  /** Error log file. */
  readonly errorLog: string;
  /** The binary that runs. */
  readonly binary: ServerBinary;
  /** TCP port; fixed after the first successful start. */
  port = 0;

  readonly #settings: Record<string, string | number | boolean>;
  readonly #startTimeoutMs: number;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stderr = '';
  #everStarted = false;
  #destroyed = false;

  /** @internal use {@link spawnServer} */
  constructor(init: { name: string; serverId: number; dir: string; binary: ServerBinary; settings: Record<string, string | number | boolean>; startTimeoutMs: number }) {
    this.name = init.name;
    this.serverId = init.serverId;
    this.dir = init.dir;
    this.datadir = join(init.dir, 'data');
    this.errorLog = join(init.dir, 'error.log');
    this.binary = init.binary;
    this.#settings = init.settings;
    this.#startTimeoutMs = init.startTimeoutMs;
  }

  /** `mysql://root@127.0.0.1:PORT/` */
  get url(): string {
    return `mysql://root@${this.host}:${this.port}/`;
  }

  /** Process id while running. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** True while the server process is alive (it may be paused). */
  get running(): boolean {
    return this.#child !== undefined;
  }

  /** The command line arguments the server runs with. */
  args(): string[] {
    const options = new Map<string, string | number | boolean>();
    const set = (name: string, value: string | number | boolean): void => {
      options.set(normalizeOptionName(name), value);
    };
    set('log_bin', 'mysql-bin');
    set('binlog_format', 'ROW');
    set('server_id', this.serverId);
    set('skip_name_resolve', true);
    set('innodb_buffer_pool_size', '64M');
    set('innodb_flush_log_at_trx_commit', 2);
    set('sync_binlog', 0);
    set('max_connections', 500);
    set('character_set_server', 'utf8mb4');
    if (this.binary.flavor === 'mariadb') {
      set('innodb_log_file_size', INNODB_LOG_FILE_SIZE);
    } else {
      set('mysqlx', false); // otherwise every MySQL server wants port 33060
      set('secure_file_priv', '');
      set('performance_schema', false);
    }
    for (const [name, value] of Object.entries(this.#settings)) {
      const key = normalizeOptionName(name);
      if (MANAGED.has(key)) throw new Error(`spawnServer: the harness manages --${key}; remove it from settings.`);
      set(key, value);
    }
    const args = [
      '--no-defaults',
      ...(isRoot() ? ['--user=root'] : []),
      `--datadir=${this.datadir}`,
      `--port=${this.port}`,
      `--bind-address=${this.host}`,
      `--socket=${join(this.dir, 'mysqld.sock')}`,
      `--pid-file=${join(this.dir, 'mysqld.pid')}`,
      `--log-error=${this.errorLog}`,
      `--tmpdir=${this.dir}`,
    ];
    for (const [name, value] of options) {
      const flag = name.replaceAll('_', '-');
      if (value === true) args.push(`--${flag}`);
      else if (value === false) args.push(`--skip-${flag}`);
      else args.push(`--${flag}=${value}`);
    }
    return args;
  }

  /** Starts the server on its datadir (and port) and waits until it answers `SELECT 1`. No-op when running. */
  async start(): Promise<void> {
    if (this.#destroyed) throw new Error(`server ${this.name} was destroyed; spawn a new one`);
    if (this.running) return;
    for (let attempt = 1; ; attempt++) {
      if (!this.#everStarted) this.port = await freePort();
      try {
        await this.#startOnce();
        this.#everStarted = true;
        return;
      } catch (error) {
        if (error instanceof ServerStartError && error.portInUse && !this.#everStarted && attempt < 5) continue;
        throw error;
      }
    }
  }

  async #startOnce(): Promise<void> {
    this.#stderr = '';
    const startedAt = Date.now();
    const logOffset = fileSize(this.errorLog);
    const child = spawn(this.binary.path, this.args(), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    liveServers.add(this);
    let exitInfo: string | undefined;
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = signal ? `killed by ${signal}` : `exit code ${code}`;
        if (this.#child === child) this.#child = undefined;
        liveServers.delete(this);
        resolve();
      });
    });
    child.once('error', (error) => {
      exitInfo = `could not run: ${error.message}`;
      if (this.#child === child) this.#child = undefined;
      liveServers.delete(this);
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-8000);
    });
    (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    child.unref();
    if (child.pid !== undefined) writeFileSync(join(this.dir, 'server.pid'), String(child.pid));

    const deadline = startedAt + this.#startTimeoutMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (this.#child !== child) {
        const log = this.#logSince(logOffset);
        const portInUse = /address already in use|bind on tcp\/ip port|errno: 98/i.test(log);
        throw new ServerStartError(
          `${this.binary.path} (server ${this.name}, port ${this.port}) stopped during startup (${exitInfo ?? 'exited'}).\n` +
            `Arguments: ${this.args().join(' ')}\nError log tail (${this.errorLog}):\n${tail(log, 40)}`,
          portInUse,
        );
      }
      try {
        await answersSelectOne({ host: this.host, port: this.port, user: 'root', connectTimeout: 2000 });
        return;
      } catch (error) {
        lastError = error;
        const code = (error as { code?: string }).code;
        if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_HOST_NOT_PRIVILEGED') {
          await this.kill('SIGKILL');
          throw new Error(
            `Server ${this.name} on port ${this.port} is up but refused root over TCP without a password (${code}). ` +
              `The template datadir was not created with --auth-root-authentication-method=normal; delete it and let the harness create a new one.`,
          );
        }
      }
      await sleep(100);
    }
    await this.kill('SIGKILL');
    throw new Error(
      `Server ${this.name} did not answer SELECT 1 on ${this.host}:${this.port} within ${this.#startTimeoutMs} ms ` +
        `(last error: ${lastError instanceof Error ? lastError.message : String(lastError)}).\n` +
        `Error log tail (${this.errorLog}):\n${tail(this.#logSince(logOffset), 40)}`,
    );
  }

  #logSince(offset: number): string {
    let log = '';
    try {
      log = readFileSync(this.errorLog).subarray(offset).toString('utf8');
    } catch {
      // no log yet
    }
    return this.#stderr ? `${log}\n[stderr]\n${this.#stderr}` : log;
  }

  /** The last `lines` lines of the error log. */
  errorLogTail(lines = 40): string {
    return tail(this.#logSince(0), lines);
  }

  /** Graceful stop: SIGTERM, wait up to `timeoutMs`, then SIGKILL. Resolves when the process is gone. */
  async stop(timeoutMs = 60_000): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGCONT'); // a paused server cannot shut down
    child.kill('SIGTERM');
    const exited = this.#exited;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  /**
   * Sends `signal` (abrupt by default, for fault tests). For signals that end the process
   * (SIGKILL, SIGTERM, SIGINT, SIGQUIT, SIGABRT) resolves once it is gone; for others
   * (SIGSTOP, SIGCONT) right after sending.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill(signal);
    if (['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGABRT'].includes(signal)) {
      if (signal !== 'SIGKILL') child.kill('SIGCONT');
      await this.#exited;
    }
  }

  /** Freezes the process (SIGSTOP): connections hang instead of failing. */
  async pause(): Promise<void> {
    await this.kill('SIGSTOP');
  }

  /** Thaws a paused process (SIGCONT). */
  async resume(): Promise<void> {
    await this.kill('SIGCONT');
  }

  /** Graceful stop, then start on the same datadir and port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the server and removes its temp directory. Idempotent. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    await this.stop(10_000);
    this.#destroyed = true;
    liveServers.delete(this);
    tempDirs.delete(this.dir);
    await rm(this.dir, { recursive: true, force: true });
  }

  /** @internal exit hook: SIGKILL without waiting. */
  killSync(): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Starts a private server (see the module comment) and resolves once it answers `SELECT 1`.
 *
 * @example
 * const server = await spawnServer({ settings: { innodb_autoinc_lock_mode: 2, auto_increment_increment: 2 } });
 * try { ... server.url ... } finally { await server.destroy(); }
 */
export async function spawnServer(options: SpawnServerOptions = {}): Promise<SpawnedServer> {
  const binary = requireBinary();
  const name = (options.name ?? 'server').replace(/[^A-Za-z0-9_-]/g, '_');
  const template = await resolveTemplate(options.templateDir);
  const dir = await mkdtemp(join(tmpdir(), `dualwrite-${name}-`));
  trackTempDir(dir);
  const server = new SpawnedServer({
    name,
    serverId: options.serverId ?? nextServerId++,
    dir,
    binary,
    settings: options.settings ?? {},
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
  });
  try {
    await execFileAsync('cp', ['-a', template, server.datadir]);
    await server.start();
  } catch (error) {
    await server.destroy();
    throw error;
  }
  return server;
}

/** Opens a fresh connection, runs `SELECT 1` and closes it; rejects with the connection's error. */
async function answersSelectOne(options: ConnectionOptions): Promise<void> {
  const connection = await createConnection(options);
  try {
    await connection.query('SELECT 1');
  } finally {
    await connection.end().catch(() => undefined);
  }
}

/**
 * Polls `url` until a fresh connection answers `SELECT 1`, or throws after `timeoutMs`
 * with the last connection error. For servers this file did not start (env URLs, containers).
 */
export async function waitUntilReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      await answersSelectOne({ uri: url, connectTimeout: 2000 });
      return;
    } catch (error) {
      lastError = error;
      const code = (error as { code?: string }).code;
      if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_BAD_DB_ERROR' || Date.now() >= deadline) break;
    }
    await sleep(250);
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(`The server at ${redactUrl(url)} did not answer SELECT 1 within ${timeoutMs} ms: ${reason}`);
}

/** `serverUrl` with `database` as its path (query parameters kept). */
export function urlWithDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** `url` with any password replaced by `***`, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Removes a template made by {@link prepareTemplate} (its parent temp dir). */
export async function removeTemplate(datadir: string): Promise<void> {
  const parent = dirname(datadir);
  tempDirs.delete(parent);
  await rm(parent, { recursive: true, force: true });
}
