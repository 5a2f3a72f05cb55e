/**
 * Statements in the shapes drizzle-orm's mysql-core emits: lower-case
 * keywords, `default` for omitted columns, `\`table\`.\`column\`` qualified
 * predicates, `on duplicate key update`, lower-case transaction statements,
 * and the statements of its migrator.
 */
import {
  A,
  BEGIN,
  C,
  COMMIT,
  DEF,
  P,
  RELEASE,
  ROLLBACK,
  ROLLBACK_TO,
  SAVEPOINT,
  SET_TX,
  T,
  type CorpusEntry,
} from './spec.js';

export const drizzle: readonly CorpusEntry[] = [
  {
    sql: 'insert into `users` (`id`, `name`, `verified`, `jsonb`, `created_at`) values (default, ?, default, ?, default)',
    expect: {
      class: 'write',
      verb: 'insert',
      placeholderCount: 2,
      unsafe: [],
      write: {
        kind: 'insert',
        form: 'values',
        table: T('users'),
        columns: ['id', 'name', 'verified', 'jsonb', 'created_at'],
        rowCount: 1,
        rows: [[DEF('default'), P(0), DEF('default'), P(1), DEF('default')]],
      },
    },
  },
  {
    sql: 'insert into `users` (`id`, `name`, `state`) values (default, default, default), (default, default, default)',
    expect: {
      class: 'write',
      placeholderCount: 0,
      write: {
        kind: 'insert',
        rowCount: 2,
        rows: [
          [DEF('default'), DEF('default'), DEF('default')],
          [DEF('default'), DEF('default'), DEF('default')],
        ],
      },
    },
  },
  {
    sql: 'insert into `userstest` (`id`, `name`, `verified`, `jsonb`, `created_at`) values (default, ?, default, ?, default) on duplicate key update `name` = ?',
    expect: {
      class: 'write',
      placeholderCount: 3,
      unsafe: ['on_duplicate_key_update'],
      write: {
        kind: 'insert',
        rows: [[DEF('default'), P(0), DEF('default'), P(1), DEF('default')]],
        onDuplicateKeyUpdate: {
          text: 'on duplicate key update `name` = ?',
          placeholders: [2],
          rowAlias: null,
          assignments: [A('name', P(2))],
        },
      },
    },
  },
  {
    sql: 'insert ignore into `users` (`id`, `name`) values (default, ?)',
    expect: { class: 'write', unsafe: ['ignore'], write: { kind: 'insert', ignore: true, rows: [[DEF('default'), P(0)]] } },
  },
  {
    sql: 'insert into `users` (`id`, `first_name`, `last_name`, `AGE`) values (default, ?, ?, ?)',
    note: 'column case is preserved',
    expect: { class: 'write', write: { kind: 'insert', columns: ['id', 'first_name', 'last_name', 'AGE'] } },
  },
  {
    sql: 'insert into `users` (`id`, `name`) select `id`, `name` from `users2`',
    note: 'insert().select()',
    expect: { class: 'write', unsafe: ['insert_select'], write: { kind: 'insert', form: 'select', columns: ['id', 'name'], rowCount: null } },
  },
  {
    sql: 'select `id`, `name` from `users` where `users`.`id` = ?',
    expect: { class: 'read', placeholderCount: 1, unsafe: [], tablesRead: [T('users')] },
  },
  {
    sql: 'select `id`, `name` from `userstest` group by `userstest`.`id`, `userstest`.`name`',
    expect: { class: 'read', unsafe: [] },
  },
  {
    sql: 'select `users`.`id`, `cities`.`name` from `users` left join `cities` on `users`.`city_id` = `cities`.`id` where `users`.`id` > ? limit ?',
    expect: { class: 'read', placeholderCount: 2, unsafe: [] },
  },
  {
    sql: 'with `sq` as (select `id`, `name` from `users` where `users`.`id` = ?) select `id`, `name` from `sq`',
    expect: { class: 'read', verb: 'with', placeholderCount: 1, unsafe: [] },
  },
  {
    sql: 'select `id`, `name` from `users` where `users`.`id` = ? for update',
    expect: { class: 'read', primaryOnly: true },
  },
  {
    sql: 'select count(*) from `users`',
    note: '$count()',
    expect: { class: 'read', unsafe: [] },
  },
  {
    sql: 'update `users` set `name` = ? where `users`.`name` = ?',
    expect: {
      class: 'write',
      unsafe: [],
      write: { kind: 'update', set: C('set `name` = ?', 0), where: C('where `users`.`name` = ?', 1), orderBy: null, limit: null },
    },
  },
  {
    sql: 'update `users` set `verified` = ? where `users`.`id` > ? limit ?',
    expect: { class: 'write', unsafe: ['limit_without_order_by'], write: { kind: 'update', limit: C('limit ?', 2) } },
  },
  {
    sql: 'delete from `users` where `users`.`name` = ?',
    expect: { class: 'write', unsafe: [], write: { kind: 'delete', tables: [T('users')], where: C('where `users`.`name` = ?', 0) } },
  },
  {
    sql: 'delete from `users` where `users`.`id` > ? order by `users`.`name` desc limit ?',
    expect: {
      class: 'write',
      unsafe: [],
      write: {
        kind: 'delete',
        where: C('where `users`.`id` > ?', 0),
        orderBy: C('order by `users`.`name` desc'),
        limit: C('limit ?', 1),
      },
    },
  },
  { sql: 'begin', expect: { class: 'transaction', verb: 'begin', transaction: BEGIN() } },
  { sql: 'commit', expect: { class: 'transaction', transaction: COMMIT() } },
  { sql: 'rollback', expect: { class: 'transaction', transaction: ROLLBACK() } },
  { sql: 'savepoint sp1', expect: { class: 'transaction', transaction: SAVEPOINT('sp1') } },
  { sql: 'release savepoint sp1', expect: { class: 'transaction', transaction: RELEASE('sp1') } },
  { sql: 'rollback to savepoint sp1', expect: { class: 'transaction', transaction: ROLLBACK_TO('sp1') } },
  { sql: 'set transaction isolation level read committed', expect: { class: 'transaction', transaction: SET_TX('next') } },
  {
    sql: 'start transaction with consistent snapshot',
    note: 'transaction({ withConsistentSnapshot: true })',
    expect: { class: 'transaction', verb: 'start', transaction: BEGIN(false, true) },
  },
  { sql: 'start transaction read only', note: "transaction({ accessMode: 'read only' })", expect: { class: 'transaction', transaction: BEGIN(true, false) } },
  { sql: 'start transaction read write', expect: { class: 'transaction', transaction: BEGIN(false, false) } },
  {
    sql: 'start transaction with consistent snapshot read only',
    note: 'drizzle joins both characteristics with a space; MySQL requires a comma and rejects this text',
    expect: { verb: 'start', notRead: true, understood: false },
  },
  {
    sql: '\n\t\t\tcreate table if not exists `__drizzle_migrations` (\n\t\t\t\tid serial primary key,\n\t\t\t\thash text not null,\n\t\t\t\tcreated_at bigint\n\t\t\t)\n\t\t',
    note: 'migrator: leading and trailing whitespace',
    expect: { class: 'ddl', verb: 'create', ddl: { kind: 'create table', tables: [T('__drizzle_migrations')], temporary: false } },
  },
  {
    sql: 'select id, hash, created_at from `__drizzle_migrations` order by created_at desc limit 1',
    expect: { class: 'read', unsafe: [], tablesRead: [T('__drizzle_migrations')] },
  },
  {
    sql: 'insert into `__drizzle_migrations` (`hash`, `created_at`) values(?, ?)',
    note: 'no space between values and (',
    expect: { class: 'write', write: { kind: 'insert', columns: ['hash', 'created_at'], rows: [[P(0), P(1)]], sourceStartsWith: 'values(' } },
  },
];
