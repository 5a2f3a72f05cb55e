/**
 * The orders service as a child process (`node --import tsx server.ts`), the way it runs in production: configured
 * by environment, reached over HTTP, switched through its admin port, stopped with SIGTERM.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A running service. */
export interface ServiceProcess {
  /** The app's base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** The admin base URL. */
  readonly adminUrl: string;
  /** Sends SIGTERM and resolves with the exit code once the process has exited. */
  stop(): Promise<number | null>;
}

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));
const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const READY = /^orders service listening on (http:\/\/\S+) \(admin on (http:\/\/\S+),/;

/** Starts the service on free ports; resolves once it listens. Its other output is printed with a `service |` prefix. */
export function startService(env: { DATABASE_URL: string; NEW_DATABASE_URL: string }, timeoutMs = 20_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    cwd: REPOSITORY,
    env: { ...process.env, ...env, PORT: '0', ADMIN_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stderr }).on('line', (line) => console.error(`  service | ${line}`));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the orders service did not say it was listening within ${timeoutMs} ms`));
    }, timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the orders service exited (code ${code}) before it was listening`));
    });
    let ready = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      console.log(`  service | ${line}`);
      const match = ready ? null : READY.exec(line);
      if (match === null) return;
      ready = true;
      clearTimeout(timer);
      resolve({
        url: match[1] as string,
        adminUrl: match[2] as string,
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

/** The admin port's answer: the mode in force and the pool's counters. */
export interface AdminStatus {
  readonly mode: string;
  readonly stats: {
    readonly acknowledgedWrites: { source: number; target: number };
    readonly replayedWrites: { source: number; target: number };
    readonly rowImageReplays: number;
    readonly replayFailures: { source: number; target: number };
    readonly unrecordedFailures: number;
    readonly refusedWrites: number;
  };
}

/** `PUT /mode` on the admin port (resolves once the switch is in force in the service), or `GET /mode` without a mode. */
export async function adminMode(adminUrl: string, mode?: string): Promise<AdminStatus> {
  const response = await fetch(`${adminUrl}/mode`, mode === undefined ? {} : { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode }) });
  const body = (await response.json()) as AdminStatus & { error?: string };
  if (!response.ok) throw new Error(`admin ${mode === undefined ? 'GET' : 'PUT'} /mode answered ${response.status}: ${body.error ?? JSON.stringify(body)}`);
  return body;
}
