/**
 * The operator's switch, kept apart from the application: a router that reads and sets the pool's mode.
 * Mount it where only operators reach it (here the example serves it on its own loopback port; see server.ts).
 * A fleet of processes would take the mode from a config center instead (`flags: new PollingFlagProvider(…)`).
 *
 * GET /mode           → { mode, stats }
 * PUT /mode { mode }  → { mode, stats }, once the switch is in force in this process
 */
import express from 'express';
// In your application: `from 'dualwrite/promise'`.
import { InvalidModeError, parseMode, type DualPromisePool } from '../../src/promise.js';

/** The admin app of the pool `pool`. */
export function createAdmin(pool: DualPromisePool): express.Express {
  const admin = express();
  admin.use(express.json());
  admin.get('/mode', (_req, res) => {
    res.json({ mode: pool.mode, stats: pool.stats() });
  });
  admin.put('/mode', async (req, res) => {
    let mode;
    try {
      mode = parseMode((req.body as { mode?: unknown } | undefined)?.mode, 'PUT /mode');
    } catch (error) {
      if (!(error instanceof InvalidModeError)) throw error;
      res.status(400).json({ error: error.message });
      return;
    }
    await pool.setMode(mode, { source: 'admin PUT /mode' });
    res.json({ mode: pool.mode, stats: pool.stats() });
  });
  return admin;
}
