import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const README = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
const lines = README.split('\n');

/** Start lines (1-based) and bodies of the fenced blocks. */
const blocks = [...README.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
  lang: m[1],
  body: m[2] as string,
  line: README.slice(0, m.index).split('\n').length,
}));

describe('README', () => {
  it('opens with the Quick start: two command lines, install-and-start and install-and-test', () => {
    expect(lines.indexOf('## Quick start')).toBeLessThan(15);
    expect(blocks[0]?.body.trim().split('\n')).toEqual([
      './scripts/bootstrap.sh && pnpm start',
      './scripts/bootstrap.sh --test && pnpm test',
    ]);
  });

  it('shows a runnable example against the running service within its first 60 lines', () => {
    const first = blocks.find((b) => b.body.includes('curl') && b.body.includes('/api/v1/workflows'));
    expect(first?.line).toBeLessThanOrEqual(60);
  });

  it('needs no Docker for its examples, and does not send readers to a document they do not have', () => {
    expect(README).not.toContain('docker exec');
    expect(README).not.toMatch(/\bthe reference\b/i);
  });
});
