// Lists package.json dependencies that no file of the package imports (and imports of undeclared workspace
// packages). Production dependencies must be imported by a non-test file; devDependencies by any file.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';

// Used by tooling, not imported: type packages and runtime-only assets.
const NOT_IMPORTED = new Set(['@types/node', '@types/jest', 'typescript']);
/** `@types/x` counts as used when `x` is (`@types/a__b` for `@a/b`). */
const typed = (dep) => (dep.startsWith('@types/') ? dep.slice(7).replace(/^(.*)__/, '@$1/') : undefined);

const manifests = execFileSync('git', ['ls-files', 'packages/*/package.json', 'apps/*/package.json', 'bench/package.json'], {
  encoding: 'utf8',
})
  .split('\n')
  .filter(Boolean);

const isTest = (f) => /\.test\.ts$/.test(f) || /(^|\/)test-[^/]*\.ts$/.test(f);
const imported = (files) => {
  const names = new Set();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import|require\(|require\.resolve\()\s*['"]([^'".][^'"]*)['"]/g)) {
      const spec = m[1];
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      names.add(name.replace(/^node:.*/, 'node'));
    }
  }
  return names;
};

const problems = [];
for (const manifest of manifests) {
  const dir = dirname(manifest);
  const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
  const files = execFileSync('git', ['ls-files', dir], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => /\.(ts|cjs|mjs)$/.test(f));
  const prod = imported(files.filter((f) => !isTest(f)));
  const all = imported(files);
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    if (!NOT_IMPORTED.has(dep) && !prod.has(dep) && !prod.has(typed(dep))) problems.push(`${manifest}: dependency ${dep} is not imported by its sources`);
  }
  for (const dep of Object.keys(pkg.devDependencies ?? {})) {
    if (!NOT_IMPORTED.has(dep) && !all.has(dep) && !all.has(typed(dep))) problems.push(`${manifest}: devDependency ${dep} is not imported`);
  }
  const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]);
  for (const name of all) {
    if (name.startsWith('@orch/') && name !== pkg.name && !declared.has(name))
      problems.push(`${manifest}: imports ${name} without declaring it`);
  }
}
for (const p of problems) console.log(p);
console.log(`${manifests.length} manifests checked: ${problems.length} problems`);
process.exit(problems.length > 0 ? 1 : 0);
