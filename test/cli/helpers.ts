/**
 * Runs the BUILT `dualwrite` command (dist/cli.js, built by ./build-cli.ts) as a child process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The built command. */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** What a finished run printed and how it ended. */
export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a child: no inherited DUALWRITE_* URLs unless given. */
function childEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = { ...process.env };
  delete base.DUALWRITE_SOURCE_URL;
  delete base.DUALWRITE_TARGET_URL;
  return { ...base, ...env };
}

/** Starts `node dist/cli.js …args` with piped stdio (so not a terminal). */
export function startCli(args: readonly string[], env?: Record<string, string>): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CLI, ...args], { env: childEnv(env), stdio: 'pipe' });
}

/** Waits for a started command to end and collects its output. */
export function finished(child: ChildProcessWithoutNullStreams, timeoutMs = 50_000): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dualwrite did not end within ${timeoutMs} ms; stdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `node dist/cli.js …args` to its end. */
export function runCli(args: readonly string[], env?: Record<string, string>): Promise<CliRun> {
  return finished(startCli(args, env));
}

/** Every non-empty line of `text` parsed as JSON (fails on a line that is not JSON). */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${line}`);
      }
    });
}

/** Expects the one-line error of a failed run: exit code 2, one stderr line mentioning `pattern`, no stack trace. */
export function expectOneLineError(run: CliRun, pattern: RegExp): string {
  const lines = run.stderr.split('\n').filter((line) => line.trim() !== '');
  if (run.code !== 2 || lines.length !== 1 || !pattern.test(lines[0] ?? '') || /\n\s+at /.test(run.stderr)) {
    throw new Error(`expected exit code 2 and one stderr line matching ${String(pattern)}, got code ${String(run.code)}:\n${run.stderr}\nstdout:\n${run.stdout}`);
  }
  return lines[0] as string;
}

/** A local TCP port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
