// Loads the built package the way users will, through its exports map, from
// both module systems, and checks that each entry exposes the same names.
// Run after `npm run build`.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
let failed = false;
for (const subpath of Object.keys(pkg.exports).filter((key) => key !== './package.json')) {
  const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
  const esm = Object.keys(await import(specifier)).filter((k) => k !== 'default').sort();
  const cjs = Object.keys(require(specifier)).filter((k) => k !== 'default' && k !== '__esModule').sort();
  const same = esm.join() === cjs.join();
  console.log(`${specifier}: ESM ${esm.length} exports, CommonJS ${cjs.length} exports${same ? '' : ' — MISMATCH'}`);
  if (!same || esm.length === 0) failed = true;
}
if (failed) {
  console.error('check-package: the ESM and CommonJS builds differ or are empty; rebuild with `npm run build` and compare dist/.');
  process.exit(1);
}
