import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** `pnpm typecheck` compiles examples/readme-example.ts under --strict; this holds the README to the same text. */
describe("the README's client example", () => {
  it('is examples/readme-example.ts, which type-checks', () => {
    const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
    const example = readFileSync(join(__dirname, '../examples/readme-example.ts'), 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  });
});
