/**
 * `npm run bench`: prints every benchmark's table. Figures that compare with
 * mysql2 are ratios measured in the same run (see DESIGN.md, Conventions, and
 * bench/README.md).
 *
 * `npm run bench -- analyzer`, `npm run bench -- pool`, `npm run bench -- migrate` or `npm run bench -- flags` runs one of them.
 */
import { runAnalyzerBench } from './analyzer.js';
import { runFlagsBench } from './flags.js';
import { runMigrateBench } from './migrate.js';
import { runPoolBench } from './pool.js';

const only = new Set(process.argv.slice(2));
const wanted = (name: string): boolean => only.size === 0 || only.has(name);

console.log('# dualwrite benchmarks');
console.log(`node ${process.version}, ${new Date().toISOString()}`);
if (wanted('analyzer')) runAnalyzerBench();
if (wanted('pool')) await runPoolBench();
if (wanted('migrate')) await runMigrateBench();
if (wanted('flags')) await runFlagsBench();
