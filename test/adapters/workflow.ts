/**
 * The everyday workflow every ORM integration test runs through the dual-write driver (not a test file itself):
 * the ORM's own inserts whose IDs it reads back, an update, a delete, a transaction that commits with a rolled-back
 * savepoint inside, one that rolls back, and a streamed read; then an independent check that both sides hold
 * exactly the rows the ORM reported, under the IDs it handed back.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { expect } from 'vitest';
import type { DualDriver } from '../../src/driver/index.js';
import type { Mode } from '../../src/mode/modes.js';
import type { ReplayFailure } from '../../src/replay/failure.js';
import { expectSidesIdentical } from '../support/compare.js';
import type { TestDatabases } from '../support/databases.js';

/** A row of the `items` table as the tests see it. */
export interface Item {
  readonly id: number;
  readonly name: string;
  readonly qty: number;
}

/** What each ORM test implements with the ORM's own API. */
export interface OrmWorkflow {
  /** Inserts items with one ORM call (a batch where the ORM has one) and returns the IDs the ORM handed back, in order. */
  insertMany(items: readonly { name: string; qty: number }[]): Promise<number[]>;
  /** Sets an item's qty. */
  update(id: number, qty: number): Promise<void>;
  /** Deletes an item. */
  remove(id: number): Promise<void>;
  /**
   * In one transaction that commits: inserts `kept`, then in a nested transaction (a savepoint) inserts `dropped`
   * and fails, so only the savepoint is rolled back. Returns the ID of `kept`.
   */
  commitWithRolledBackSavepoint(kept: string, dropped: string): Promise<number>;
  /**
   * In one transaction: inserts `name`; in a nested transaction (a savepoint, released) sets `touchId`'s qty to 999;
   * then fails, so the whole transaction rolls back.
   */
  rollBack(name: string, touchId: number): Promise<void>;
  /** Reads every item through the ORM's streaming API (or the driver's `.stream()` where the ORM has none). */
  streamAll(): Promise<Item[]>;
}

/**
 * Runs the workflow once and returns the rows it must have left, by ID. Checks the streamed read against them.
 *
 * @param label - makes the names of this run unique (`a`, `b`, …)
 * @param known - the rows earlier runs left
 */
export async function runWorkflow(orm: OrmWorkflow, label: string, known: ReadonlyMap<number, Item>): Promise<Map<number, Item>> {
  const expected = new Map(known);
  const batch = [1, 2, 3, 4].map((n) => ({ name: `${label}-${n}`, qty: n }));
  const ids = await orm.insertMany(batch);
  expect(ids).toHaveLength(batch.length);
  expect(new Set(ids).size).toBe(batch.length);
  for (const [index, id] of ids.entries()) {
    expect(Number.isSafeInteger(id) && id > 0, `insert ${index} returned the ID ${String(id)}`).toBe(true);
    expect(expected.has(id), `ID ${id} handed back twice`).toBe(false);
    expected.set(id, { id, ...(batch[index] as { name: string; qty: number }) });
  }
  const [first, second, third] = ids as [number, number, number, number];
  await orm.update(first, 40);
  expected.set(first, { ...(expected.get(first) as Item), qty: 40 });
  await orm.remove(second);
  expected.delete(second);
  const kept = await orm.commitWithRolledBackSavepoint(`${label}-kept`, `${label}-dropped`);
  expect(expected.has(kept)).toBe(false);
  expected.set(kept, { id: kept, name: `${label}-kept`, qty: 0 });
  await orm.rollBack(`${label}-rolled-back`, third);
  const streamed = await orm.streamAll();
  expect(sorted(streamed.map((row) => ({ id: Number(row.id), name: String(row.name), qty: Number(row.qty) })))).toEqual(sorted([...expected.values()]));
  return expected;
}

/**
 * Both sides hold exactly `expected` in `items` (the IDs the ORM handed back are the IDs stored on both), and every
 * table in `tables` is identical row for row (independent comparison, test/support/compare.ts).
 */
export async function expectBothSides(db: TestDatabases, expected: ReadonlyMap<number, Item>, tables: readonly string[]): Promise<void> {
  for (const side of [db.source, db.target]) {
    const [rows] = await side.query<RowDataPacket[]>('SELECT id, name, qty FROM items ORDER BY id');
    expect(rows.map((row) => ({ id: Number(row.id), name: String(row.name), qty: Number(row.qty) }))).toEqual(sorted([...expected.values()]));
  }
  await expectSidesIdentical(db.source, db.target, tables);
}

/**
 * Makes a side that numbers rows itself visible: after the schema exists, the side that is secondary in `mode`
 * starts its auto-increment far away, so an ID it generated instead of receiving would differ from the primary's.
 */
export async function offsetSecondaryIds(db: TestDatabases, mode: Mode, table = 'items'): Promise<void> {
  const secondary = mode.startsWith('source') ? db.target : db.source;
  await secondary.query(`ALTER TABLE \`${table}\` AUTO_INCREMENT = ${mode.startsWith('source') ? 1_000_000 : 2_000_000}`);
}

/**
 * The rows added since `before` got IDs from the primary side of `mode` (see {@link offsetSecondaryIds}): the
 * source numbers from 1, the target from 1,000,000, and the source, once secondary, starts at 2,000,000.
 */
export function expectNumberedBy(mode: Mode, before: ReadonlyMap<number, Item>, after: ReadonlyMap<number, Item>): void {
  const added = [...after.keys()].filter((id) => !before.has(id));
  expect(added.length).toBeGreaterThan(0);
  const [low, high] = mode.startsWith('source') ? [1, 1_000_000] : [1_000_000, 2_000_000];
  for (const id of added) expect(id >= low && id < high, `ID ${id} was not numbered by the ${mode.split('_')[0]} side`).toBe(true);
}

/** Collects every replay failure the driver reports (each test expects none). */
export function collectFailures(driver: DualDriver): ReplayFailure[] {
  const failures: ReplayFailure[] = [];
  driver.on('replayFailure', (failure) => failures.push(failure));
  return failures;
}

/**
 * The part every ORM test shares: the workflow in `source_first`, a switch to `target_first`, the workflow again;
 * after each run both sides hold exactly the rows the tool reported (compared independently) with IDs numbered by
 * the primary side, and the run ended with no replay failure and replays in both directions.
 */
export async function runAcrossSwitch(db: TestDatabases, driver: DualDriver, workflow: OrmWorkflow, tables: readonly string[], failures: readonly ReplayFailure[]): Promise<void> {
  await offsetSecondaryIds(db, 'source_first');
  const afterSourceFirst = await runWorkflow(workflow, 'a', new Map());
  await expectBothSides(db, afterSourceFirst, tables);
  expectNumberedBy('source_first', new Map(), afterSourceFirst);

  await driver.setMode('target_first');
  await offsetSecondaryIds(db, 'target_first');
  const afterTargetFirst = await runWorkflow(workflow, 'b', afterSourceFirst);
  await expectBothSides(db, afterTargetFirst, tables);
  expectNumberedBy('target_first', afterSourceFirst, afterTargetFirst);

  expect(failures).toEqual([]);
  const stats = driver.stats();
  expect(stats.replayedWrites.target).toBeGreaterThan(0);
  expect(stats.replayedWrites.source).toBeGreaterThan(0);
}

/** A failure a test throws to make the ORM roll back. */
export class Rollback extends Error {
  constructor() {
    super('roll back (on purpose)');
  }
}

function sorted(items: Item[]): Item[] {
  return [...items].sort((a, b) => a.id - b.id);
}
