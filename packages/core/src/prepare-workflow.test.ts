import { ValidationError } from '@orch/errors';
import { prepareFromTemplate, prepareInline } from './prepare-workflow';
import { loadExternalTaskTypes } from './task-types';
import type { TemplateDefinition } from './workflow';

const template = (): TemplateDefinition =>
  ({
    id: 'greet',
    name: 'Greet',
    version: '1.0',
    variables: [{ name: 'who', type: 'string', required: true }],
    workflow: {
      id: 'greet-run',
      tasks: [
        { id: 'hello', type: 'transform', parameters: { output: 'hello ${who}' } },
        { id: 'after', type: 'transform', depends_on: ['hello'], parameters: { output: 1 } },
      ],
    },
  }) as unknown as TemplateDefinition;

describe('prepareFromTemplate', () => {
  it('compiles a template once and resolves each start its own variables', () => {
    const t = template();
    const first = prepareFromTemplate(t, { who: 'ada' });
    const second = prepareFromTemplate(t, { who: 'bob' });
    expect(second.compiled).toBe(first.compiled);
    expect(second.dag).toBe(first.dag);
    expect([first.variables.who, second.variables.who]).toEqual(['ada', 'bob']);
    expect(first.compiled.roots).toEqual(['hello']);
    // Another object (another version) is compiled on its own.
    expect(prepareFromTemplate(template(), { who: 'cy' }).compiled).not.toBe(first.compiled);
  });

  it('still checks the variables of every start', () => {
    const t = template();
    prepareFromTemplate(t, { who: 'ada' });
    expect(() => prepareFromTemplate(t, {})).toThrow(ValidationError);
  });

  it('refuses an invalid template every time (failures are not kept)', () => {
    const bad = { ...template(), workflow: { id: 'x', tasks: [{ id: 'a', type: 'no-such-type' }] } };
    for (let i = 0; i < 2; i++) {
      expect(() => prepareFromTemplate(bad as unknown as TemplateDefinition, { who: 'a' })).toThrow(
        expect.objectContaining({ code: 'TEMPLATE_INVALID' }),
      );
    }
  });
});

describe('prepareInline', () => {
  const doc = (type = 'transform', output: unknown = '${who}') => ({
    id: 'inline',
    variables: { who: 'nobody' },
    tasks: [{ id: 'a', type, parameters: type === 'transform' ? { output } : { name: 'x' } }],
  });
  afterEach(() => loadExternalTaskTypes([]));

  it('compiles the same document once, whatever object it arrives in, and resolves each start its own variables', () => {
    const first = prepareInline(doc(), { who: 'ada' });
    const second = prepareInline(JSON.parse(JSON.stringify(doc())), { who: 'bob' });
    expect(second.compiled).toBe(first.compiled);
    expect([first.variables.who, second.variables.who]).toEqual(['ada', 'bob']);
    expect(prepareInline(doc()).variables.who).toBe('nobody');
    // Another document is compiled on its own.
    expect(prepareInline(doc('transform', 'other')).compiled).not.toBe(first.compiled);
  });

  it('keeps no failure: the same document is refused each time, with its pointers', () => {
    const bad = { id: 'inline', tasks: [{ id: 'a', type: 'transform', depends_on: ['ghost'], parameters: {} }] };
    for (let i = 0; i < 2; i++) {
      try {
        prepareInline(bad, {}, '/workflow');
        throw new Error('accepted');
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).details[0]?.pointer).toMatch(/^\/workflow\/tasks\/0/);
      }
    }
  });

  it('validates again once the registered task types change (a type registered or dropped)', () => {
    expect(() => prepareInline(doc('greet'))).toThrow(ValidationError);
    loadExternalTaskTypes([
      { name: 'greet', parameters: { type: 'object', properties: { name: { type: 'string' } } }, queue: 'greet' },
    ]);
    const registered = prepareInline(doc('greet'));
    expect(registered.compiled.roots).toEqual(['a']);
    expect(prepareInline(doc('greet')).compiled).toBe(registered.compiled);
    loadExternalTaskTypes([]);
    const refusal = (() => {
      try {
        prepareInline(doc('greet'));
      } catch (error) {
        return error as ValidationError;
      }
    })();
    expect(refusal?.details[0]?.message).toMatch(/unknown task type 'greet'/);
  });
});
