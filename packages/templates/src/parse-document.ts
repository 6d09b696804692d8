import type { ErrorDetail } from '@orch/errors';
import { parseDocument as parseYaml } from 'yaml';

/**
 * Parses YAML (JSON is YAML too). Syntax errors come back as details with line and column, not exceptions.
 * YAML 1.2 core schema: `on`/`yes` stay strings, and `${x}` needs no quoting.
 */
export function parseDocument(text: string): { value: unknown; errors: ErrorDetail[] } {
  const doc = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      value: undefined,
      errors: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const where = pos ? `line ${pos.line}, column ${pos.col}: ` : '';
        return { pointer: '', message: `${where}${e.message.split('\n')[0]}` };
      }),
    };
  }
  return { value: doc.toJS({ maxAliasCount: 100 }), errors: [] };
}
