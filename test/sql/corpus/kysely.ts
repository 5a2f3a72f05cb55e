/**
 * Statements in the shapes Kysely's MySQL dialect emits: lower-case
 * keywords, `?` parameters, subqueries as insert values, `delete … using`,
 * `rollback to \`sp\`` without the SAVEPOINT keyword, `set transaction`
 * characteristics joined with `, `, and the migrator's get_lock().
 */
import {
  A,
  BEGIN,
  C,
  COMMIT,
  EXPR,
  P,
  RELEASE,
  ROLLBACK,
  ROLLBACK_TO,
  SAVEPOINT,
  SET_TX,
  T,
  placeholderRows,
  type CorpusEntry,
} from './spec.js';

export const kysely: readonly CorpusEntry[] = [
  {
    sql: 'insert into `person` (`first_name`, `last_name`, `gender`) values (?, ?, ?)',
    expect: {
      class: 'write',
      unsafe: [],
      write: { kind: 'insert', table: T('person'), columns: ['first_name', 'last_name', 'gender'], rows: placeholderRows(1, 3) },
    },
  },
  {
    sql: 'insert into `person` (`first_name`, `gender`) values ((select `name` from `pet` where `species` = ? limit ?), ?)',
    expect: {
      class: 'write',
      placeholderCount: 3,
      unsafe: ['subquery'],
      write: {
        kind: 'insert',
        rows: [[EXPR('(select `name` from `pet` where `species` = ? limit ?)', 0, 1), P(2)]],
      },
    },
  },
  {
    sql: "insert into `person` (`first_name`, `last_name`, `gender`) values ((select max(name) as `max_name` from `pet`), concat('Bar', 'son'), ?)",
    expect: {
      class: 'write',
      unsafe: ['subquery'],
      write: {
        kind: 'insert',
        rows: [[EXPR('(select max(name) as `max_name` from `pet`)'), EXPR("concat('Bar', 'son')"), P(0)]],
      },
    },
  },
  {
    sql: 'insert into `person` (`first_name`, `gender`) select `name`, ? as `gender` from `pet`',
    expect: {
      class: 'write',
      placeholderCount: 1,
      unsafe: ['insert_select'],
      write: { kind: 'insert', form: 'select', columns: ['first_name', 'gender'], rowCount: null, rows: [] },
    },
  },
  {
    sql: 'insert ignore into `pet` (`name`, `owner_id`, `species`) values (?, ?, ?)',
    expect: { class: 'write', unsafe: ['ignore'], write: { kind: 'insert', ignore: true } },
  },
  {
    sql: 'insert into `pet` (`name`, `owner_id`, `species`) values (?, ?, ?) on duplicate key update `species` = ?',
    expect: {
      class: 'write',
      unsafe: ['on_duplicate_key_update'],
      write: { kind: 'insert', onDuplicateKeyUpdate: { placeholders: [3], assignments: [A('species', P(3))] } },
    },
  },
  {
    sql: 'replace into `person` (`id`, `first_name`, `last_name`) values (?, ?, ?)',
    expect: {
      class: 'write',
      verb: 'replace',
      unsafe: ['replace'],
      write: { kind: 'replace', ignore: false, form: 'values', table: T('person'), rows: placeholderRows(1, 3) },
    },
  },
  {
    sql: 'update `person` set `first_name` = ?, `last_name` = ? where `id` = ?',
    expect: { class: 'write', unsafe: [], write: { kind: 'update', multiTable: false, where: C('where `id` = ?', 2) } },
  },
  {
    sql: 'update `person`, `pet` set `person`.`first_name` = `pet`.`name` where `pet`.`owner_id` = `person`.`id` and `pet`.`species` = ?',
    note: 'updateTable([a, b])',
    expect: {
      class: 'write',
      unsafe: ['multi_table'],
      write: {
        kind: 'update',
        multiTable: true,
        tables: [T('person'), T('pet')],
        assignments: [A('first_name', EXPR('`pet`.`name`'), 'person')],
        where: C('where `pet`.`owner_id` = `person`.`id` and `pet`.`species` = ?', 0),
      },
    },
  },
  {
    sql: 'update `person` set `first_name` = ? where `id` in (select `owner_id` from `pet` where `species` = ?)',
    expect: { class: 'write', unsafe: ['subquery'], write: { kind: 'update', multiTable: false, where: C('where `id` in (select `owner_id` from `pet` where `species` = ?)', 1) } },
  },
  {
    sql: 'delete from `person` where `first_name` = ? -- this is a comment',
    note: 'a trailing line comment is not part of the WHERE clause',
    expect: {
      class: 'write',
      placeholderCount: 1,
      multiStatement: false,
      write: { kind: 'delete', where: { ...C('where `first_name` = ?', 0), body: '`first_name` = ?' } },
    },
  },
  {
    sql: 'delete from `person` order by `first_name` limit ?',
    expect: {
      class: 'write',
      unsafe: [],
      write: { kind: 'delete', where: null, orderBy: C('order by `first_name`'), limit: C('limit ?', 0) },
    },
  },
  {
    sql: 'delete from `person` using `person` inner join `pet` on `pet`.`owner_id` = `person`.`id` left join `toy` on `toy`.`pet_id` = `pet`.`id` where (`pet`.`species` = ? or `toy`.`price` = ?)',
    expect: {
      class: 'write',
      unsafe: ['multi_table'],
      write: {
        kind: 'delete',
        multiTable: true,
        tables: [T('person')],
        referencedTables: [T('person'), T('pet'), T('toy')],
        where: C('where (`pet`.`species` = ? or `toy`.`price` = ?)', 0, 1),
      },
    },
  },
  {
    sql: 'delete `person`, `pet` from `person` inner join `pet` on `pet`.`owner_id` = `person`.`id` where `person`.`id` = ?',
    expect: {
      class: 'write',
      unsafe: ['multi_table'],
      write: { kind: 'delete', multiTable: true, tables: [T('person'), T('pet')], referencedTables: [T('person'), T('pet')] },
    },
  },
  {
    sql: 'select `person`.* from `person` where `id` = ?',
    expect: { class: 'read', unsafe: [], tablesRead: [T('person')] },
  },
  {
    sql: 'with `jennifers` as (select `first_name`, `id` from `person` where `first_name` = ?) select * from `jennifers`',
    expect: { class: 'read', verb: 'with', placeholderCount: 1 },
  },
  {
    sql: 'with recursive `ancestors` as (select `id`, `parent_id` from `node` where `id` = ? union all select `node`.`id`, `node`.`parent_id` from `node` inner join `ancestors` on `ancestors`.`parent_id` = `node`.`id`) select * from `ancestors`',
    expect: { class: 'read', verb: 'with', placeholderCount: 1, unsafe: [] },
  },
  { sql: 'begin', expect: { class: 'transaction', transaction: BEGIN() } },
  { sql: 'commit', expect: { class: 'transaction', transaction: COMMIT() } },
  { sql: 'rollback', expect: { class: 'transaction', transaction: ROLLBACK() } },
  {
    sql: 'set transaction isolation level read committed, read only',
    expect: { class: 'transaction', transaction: SET_TX('next') },
  },
  { sql: 'savepoint `sp1`', expect: { class: 'transaction', transaction: SAVEPOINT('sp1') } },
  {
    sql: 'rollback to `sp1`',
    note: 'ROLLBACK TO without the optional SAVEPOINT keyword',
    expect: { class: 'transaction', verb: 'rollback', transaction: ROLLBACK_TO('sp1') },
  },
  { sql: 'release savepoint `sp1`', expect: { class: 'transaction', transaction: RELEASE('sp1') } },
  {
    sql: 'select connection_id() as cid',
    expect: { class: 'read', unsafe: ['nondeterministic_function'], unsafeDetails: [['nondeterministic_function', 'CONNECTION_ID']] },
  },
  {
    sql: "select get_lock('ea586330-2c93-47c8-908d-981d9d270f9d', 3600)",
    note: 'migrator lock: a lock lives on one server, so the read goes to the primary',
    expect: { class: 'read', primaryOnly: true, unsafe: ['nondeterministic_function'] },
  },
  {
    sql: "select release_lock('ea586330-2c93-47c8-908d-981d9d270f9d')",
    expect: { class: 'read', primaryOnly: true, unsafe: ['nondeterministic_function'] },
  },
  {
    sql: 'create table if not exists `kysely_migration` (`name` varchar(255) not null primary key, `timestamp` varchar(255) not null)',
    expect: { class: 'ddl', ddl: { kind: 'create table', tables: [T('kysely_migration')] } },
  },
  {
    sql: 'kill query 1234',
    note: 'query cancellation',
    expect: { class: 'other', verb: 'kill', write: null },
  },
];
