import type { ErrorDetail } from '@orch/errors';
import { pointerJoin } from './ajv';
import type { VariableDefinition, VariableType } from './workflow';

export interface ResolvedInputs {
  values: Record<string, unknown>;
  errors: ErrorDetail[];
}

/**
 * Applies declared types, defaults and `required` to the variables a caller gave. Coerces only where the meaning is
 * unambiguous: "50" for a number, "true"/"false" for a boolean, a number for a string, JSON text for an object or
 * array (the CLI's `--var k=v` gives strings). Everything else is an error naming the variable and the expected type.
 */
export function resolveInputs(
  definitions: readonly VariableDefinition[],
  given: Record<string, unknown> = {},
  base = '/variables',
): ResolvedInputs {
  const values: Record<string, unknown> = {};
  const errors: ErrorDetail[] = [];
  const declared = new Set(definitions.map((d) => d.name));
  for (const name of Object.keys(given)) {
    if (!declared.has(name)) {
      const known = [...declared].join(', ') || 'none';
      errors.push({
        pointer: pointerJoin(base, name),
        message: `unknown variable '${name}'; this template declares: ${known}`,
      });
    }
  }
  for (const def of definitions) {
    const pointer = pointerJoin(base, def.name);
    const supplied = Object.hasOwn(given, def.name) && given[def.name] !== undefined;
    if (!supplied) {
      if (def.default !== undefined) values[def.name] = def.default;
      else if (def.required) errors.push({ pointer, message: `variable '${def.name}' is required${describe(def)}` });
      continue;
    }
    const result = coerce(given[def.name], def.type);
    if (result.ok) values[def.name] = result.value;
    else
      errors.push({
        pointer,
        message: `variable '${def.name}' must be ${article(def.type)}; got ${JSON.stringify(given[def.name])}`,
      });
  }
  return { values, errors };
}

function describe(def: VariableDefinition): string {
  return def.description ? ` (${def.description})` : '';
}

function article(type: VariableType | undefined): string {
  return type === 'integer' || type === 'object' || type === 'array' ? `an ${type}` : `a ${type}`;
}

type Coerced = { ok: true; value: unknown } | { ok: false };

export function coerce(value: unknown, type: VariableType | undefined): Coerced {
  const ok = (v: unknown): Coerced => ({ ok: true, value: v });
  switch (type) {
    case undefined:
      return ok(value);
    case 'string':
      if (typeof value === 'string') return ok(value);
      if (typeof value === 'number' || typeof value === 'boolean') return ok(String(value));
      return { ok: false };
    case 'number':
    case 'integer': {
      const n =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(value)
            ? Number(value)
            : Number.NaN;
      if (!Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n))) return { ok: false };
      return ok(n);
    }
    case 'boolean':
      if (typeof value === 'boolean') return ok(value);
      if (value === 'true' || value === 'false') return ok(value === 'true');
      return { ok: false };
    case 'object':
    case 'array': {
      const parsed = typeof value === 'string' ? tryJson(value) : value;
      const isArray = Array.isArray(parsed);
      const fits = type === 'array' ? isArray : parsed !== null && typeof parsed === 'object' && !isArray;
      return fits ? ok(parsed) : { ok: false };
    }
  }
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
