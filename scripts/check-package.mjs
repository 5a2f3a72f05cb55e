// Loads the built package the way users will, through its exports map, from
// both module systems, and checks that each entry exposes the same names.
// Run after `npm run build`.
import { createRequire } from 'node:module';
import { readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
// Each command of "bin": a file with a shebang, executable, that runs and prints the package's version.
for (const [name, path] of Object.entries(pkg.bin ?? {})) {
  const file = fileURLToPath(new URL(`../${path}`, import.meta.url));
  let problem = null;
  try {
    if (!readFileSync(file, 'utf8').startsWith('#!/usr/bin/env node\n')) problem = 'no #!/usr/bin/env node line';
    else if ((statSync(file).mode & 0o111) === 0) problem = 'not executable';
    else if (execFileSync(process.execPath, [file, '--version'], { encoding: 'utf8' }).trim() !== pkg.version) problem = `--version does not print ${pkg.version}`;
  } catch (error) {
    problem = error.message;
  }
  console.log(`bin ${name} (${path}): ${problem ?? 'ok'}`);
  if (problem !== null) failed = true;
}
if (failed) {
  console.error('check-package: the ESM and CommonJS builds differ or are empty, or a "bin" command is broken; rebuild with `npm run build` and compare dist/.');
  process.exit(1);
}
