/**
 * Starts the orders service: `DATABASE_URL=… NEW_DATABASE_URL=… PORT=3000 ADMIN_PORT=3001 tsx examples/express-orders/server.ts`.
 * The app (app.ts) listens on PORT, the operator's switch (admin.ts) on ADMIN_PORT, loopback only. Port 0 picks a
 * free port; the first line printed says which. SIGTERM or SIGINT closes both and the pool.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdmin } from './admin.js';
import { createApp } from './app.js';
import { openPool } from './db.js';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set: give the mysql:// URL of the ${name === 'DATABASE_URL' ? 'current' : 'new'} database, with the database name in its path`);
  return value;
}

function listen(app: { listen(port: number, host: string, callback: () => void): Server }, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1', () => resolve(server));
    server.once('error', reject);
  });
}

async function main(): Promise<void> {
  const pool = openPool({ DATABASE_URL: required('DATABASE_URL'), NEW_DATABASE_URL: required('NEW_DATABASE_URL') });
  const api = await listen(createApp(pool), Number(process.env.PORT ?? 3000));
  const admin = await listen(createAdmin(pool), Number(process.env.ADMIN_PORT ?? 3001));
  const port = (server: Server): number => (server.address() as AddressInfo).port;
  console.log(`orders service listening on http://127.0.0.1:${port(api)} (admin on http://127.0.0.1:${port(admin)}, mode ${pool.mode})`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));
    void Promise.all([close(api), close(admin)])
      .then(() => pool.end())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error('orders service: could not close the pool:', error);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error('orders service failed to start:', error);
  process.exit(1);
});
