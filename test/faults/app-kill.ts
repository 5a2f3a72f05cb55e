/**
 * Runs the scenario-7 application child (`app-child.ts`, through tsx) and kills it with SIGKILL once its journal
 * holds a number of acknowledgements: shared by the scenario with the default settings and the one with intents.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppChildConfig } from './app-child.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'app-child.ts');
/** Liveness bound for the child to start and acknowledge its writes (tsx start-up included); never a speed check. */
export const CHILD_DEADLINE_MS = 30_000;

/** Runs the child until its journal holds `acks` acknowledgements, then kills it with SIGKILL. Returns its stderr. */
export async function runAndKill(config: AppChildConfig, acks: number): Promise<string> {
  const child = fork(CHILD, [JSON.stringify(config)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + CHILD_DEADLINE_MS;
  try {
    for (;;) {
      let text = '';
      try {
        text = readFileSync(config.journal, 'utf8');
      } catch {
        // not created yet
      }
      if ((text.match(/^\{"t":"ack"/gm)?.length ?? 0) >= acks) break;
      if (child.exitCode !== null) throw new Error(`the application child exited on its own (${child.exitCode}): ${stderr}`);
      if (Date.now() > deadline) throw new Error(`the application child did not acknowledge ${acks} writes within ${CHILD_DEADLINE_MS} ms: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  return stderr;
}
