import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fiveTaskTemplate } from './shapes';

/** A template catalog directory for the API with the bench's own template only (JSON is valid for the catalog). */
export function writeTemplates(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-templates-'));
  writeFileSync(join(dir, 'bench-five.json'), JSON.stringify(fiveTaskTemplate(), null, 2));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
