// Flags non-test source files over 400 lines and functions over 80 lines (tests, test helpers and bench excluded).
// Usage: node scripts/check-sizes.mjs [--max-file 400] [--max-function 80]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import ts from 'typescript';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const maxFile = arg('--max-file', 400);
const maxFunction = arg('--max-function', 80);

const files = execFileSync('git', ['ls-files', 'packages', 'apps'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => /\.ts$/.test(f) && !/\.test\.ts$/.test(f) && !/(^|\/)test-[^/]*\.ts$/.test(f) && !/\/src\/testing\.ts$/.test(f) && !/\.d\.ts$/.test(f));

const problems = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').length;
  if (lines > maxFile) problems.push(`${file}: ${lines} lines (max ${maxFile})`);
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const length = end - start + 1;
      if (length > maxFunction) {
        const name = node.name?.getText?.() ?? (ts.isArrowFunction(node) || ts.isFunctionExpression(node) ? '(anonymous)' : '?');
        problems.push(`${file}:${start + 1}: function ${name} is ${length} lines (max ${maxFunction})`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
for (const p of problems) console.log(p);
console.log(`${files.length} files checked: ${problems.length} over the limits`);
process.exit(problems.length > 0 ? 1 : 0);
