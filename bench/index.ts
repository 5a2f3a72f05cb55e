/**
 * `npm run bench`: prints every benchmark's table. Figures that compare with
 * mysql2 are ratios measured in the same run (see DESIGN.md, Conventions).
 */
import { runAnalyzerBench } from './analyzer.js';

console.log('# dualwrite benchmarks');
console.log(`node ${process.version}, ${new Date().toISOString()}`);
runAnalyzerBench();
