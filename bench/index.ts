/**
 * `npm run bench`: prints every benchmark's table. Figures that compare with
 * mysql2 are ratios measured in the same run (see DESIGN.md, Conventions, and
 * bench/README.md).
 *
 * `npm run bench -- analyzer`, `npm run bench -- pool` or `npm run bench -- migrate` runs one of them.
 */
import { runAnalyzerBench } from './analyzer.js';
import { runMigrateBench } from './migrate.js';
import { runPoolBench } from './pool.js';

const only = new Set(process.argv.slice(2));
const wanted = (name: string): boolean => only.size === 0 || only.has(name);

console.log('# dualwrite benchmarks');
console.log(`node ${process.version}, ${new Date().toISOString()}`);
if (wanted('analyzer')) runAnalyzerBench();
if (wanted('pool')) await runPoolBench();
if (wanted('migrate')) await runMigrateBench();
