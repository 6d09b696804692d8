import { resolveInputs } from './variables';
import type { VariableDefinition } from './workflow';

const defs: VariableDefinition[] = [
  { name: 'limit', type: 'integer', default: 10 },
  { name: 'ratio', type: 'number' },
  { name: 'name', type: 'string', required: true, description: 'who to greet' },
  { name: 'on', type: 'boolean' },
  { name: 'opts', type: 'object' },
  { name: 'tags', type: 'array' },
  { name: 'anything' },
];

describe('resolveInputs', () => {
  it('applies defaults and coerces unambiguous strings', () => {
    const { values, errors } = resolveInputs(defs, {
      name: 7,
      ratio: '0.25',
      on: 'true',
      opts: '{"a":1}',
      tags: '["x"]',
      anything: { raw: true },
    });
    expect(errors).toEqual([]);
    expect(values).toEqual({
      limit: 10,
      ratio: 0.25,
      name: '7',
      on: true,
      opts: { a: 1 },
      tags: ['x'],
      anything: { raw: true },
    });
  });

  it('coerces "50" for an integer', () => {
    expect(resolveInputs(defs, { name: 'x', limit: '50' }).values.limit).toBe(50);
  });

  it('reports every problem with a pointer', () => {
    const { errors } = resolveInputs(defs, { limit: '2.5', on: 'yes', opts: '[1]', tags: 'a,b', extra: 1 });
    expect(errors).toEqual([
      {
        pointer: '/variables/extra',
        message: "unknown variable 'extra'; this template declares: limit, ratio, name, on, opts, tags, anything",
      },
      { pointer: '/variables/limit', message: 'variable \'limit\' must be an integer; got "2.5"' },
      { pointer: '/variables/name', message: "variable 'name' is required (who to greet)" },
      { pointer: '/variables/on', message: 'variable \'on\' must be a boolean; got "yes"' },
      { pointer: '/variables/opts', message: 'variable \'opts\' must be an object; got "[1]"' },
      { pointer: '/variables/tags', message: 'variable \'tags\' must be an array; got "a,b"' },
    ]);
  });
});
