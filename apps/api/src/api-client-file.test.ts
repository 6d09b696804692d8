import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TemplateCatalog } from '@orch/templates';
import { buildOpenApi } from './openapi';
import { openapiExamples } from './openapi-examples';
import { ROUTES } from './routes';

/**
 * packages/api-client holds the document and the client types generated from it. They are checked in, so a route or
 * schema change that was not regenerated fails here, naming the command that regenerates them.
 */

const SCRIPT = join(__dirname, '../../../packages/api-client/generate.cjs');
const generator = require(SCRIPT) as { DOCUMENT: string; TYPES: string; documentText(document: object): string };

/** What openapi-typescript makes of `document`, in a child process (it loads ES modules jest cannot). */
function typesOf(document: object): string {
  const file = join(mkdtempSync(join(tmpdir(), 'api-client-')), 'openapi.json');
  writeFileSync(file, JSON.stringify(document));
  return execFileSync(process.execPath, [SCRIPT, '--types', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

const version = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string })
  .version;
let document: object;
beforeAll(async () => {
  document = buildOpenApi(
    ROUTES,
    version,
    openapiExamples(await TemplateCatalog.load(join(__dirname, '../../../templates'))),
  );
});
const REGENERATE = 'run `pnpm generate:api-client` and commit what it writes';

/** The first line where `actual` and `expected` differ, to say where without printing 4,000 lines. */
function firstDifference(actual: string, expected: string): string | undefined {
  if (actual === expected) return undefined;
  const a = actual.split('\n');
  const e = expected.split('\n');
  const line = a.findIndex((text, i) => text !== e[i]);
  const at = line === -1 ? a.length : line;
  return `line ${at + 1}: has ${JSON.stringify(a[at])}, the route table gives ${JSON.stringify(e[at])}`;
}

describe('packages/api-client', () => {
  it('holds the document the route table builds', () => {
    const difference = firstDifference(readFileSync(generator.DOCUMENT, 'utf8'), generator.documentText(document));
    expect(difference && `packages/api-client/openapi.json differs at ${difference}: ${REGENERATE}`).toBeUndefined();
  });

  it('holds the types openapi-typescript generates from it', () => {
    const expected = typesOf(document);
    const difference = firstDifference(readFileSync(generator.TYPES, 'utf8'), expected);
    expect(difference && `packages/api-client/src/schema.ts differs at ${difference}: ${REGENERATE}`).toBeUndefined();
  });
});
