/**
 * Statement analyzer figures: the cached path, a first analysis of typical
 * statements, and how a multi-row INSERT scales with its row count.
 * Goals (issue 2): cached well under 1 µs; first analysis of a one-row
 * INSERT/UPDATE well under 20 µs; multi-row INSERT linear in rows.
 */
import { StatementAnalyzer, analyze } from '../src/sql/index.js';
import { formatNs, medianNsPerCall } from './timing.js';

const TYPICAL = {
  'one-row INSERT (TypeORM)': 'INSERT INTO `post`(`id`, `title`, `body`, `createdAt`) VALUES (DEFAULT, ?, ?, ?)',
  'point UPDATE (Knex)': 'update `users` set `name` = ?, `updated_at` = ? where `id` = ?',
  'point SELECT (Sequelize)': 'SELECT `id`, `name`, `email` FROM `users` AS `User` WHERE `User`.`id` = ? LIMIT 1;',
  'DELETE (Drizzle)': 'delete from `sessions` where `sessions`.`expires_at` < ?',
};

function multiRowInsert(rows: number): string {
  const values = Array.from({ length: rows }, (_, i) => `(${i}, 'name ${i}', ?, NULL)`).join(', ');
  return `INSERT INTO \`items\` (\`id\`, \`name\`, \`price\`, \`note\`) VALUES ${values}`;
}

/** Runs the analyzer benchmark and prints its table. */
export function runAnalyzerBench(): void {
  console.log('\n## Statement analyzer (src/sql)\n');
  const analyzer = new StatementAnalyzer();
  console.log('| statement | first analysis | cached |');
  console.log('|---|---|---|');
  for (const [label, sql] of Object.entries(TYPICAL)) {
    const first = medianNsPerCall(() => analyze(sql), 20_000);
    analyzer.analyze(sql);
    const cached = medianNsPerCall(() => analyzer.analyze(sql), 1_000_000);
    console.log(`| ${label} | ${formatNs(first)} | ${formatNs(cached)} |`);
  }

  console.log('\n| multi-row INSERT | first analysis | per row |');
  console.log('|---|---|---|');
  for (const rows of [10, 100, 1000, 10_000]) {
    const sql = multiRowInsert(rows);
    const ns = medianNsPerCall(() => analyze(sql), Math.max(5, Math.floor(200_000 / rows)), 5);
    console.log(`| ${rows} rows | ${formatNs(ns)} | ${formatNs(ns / rows)} |`);
  }
}
