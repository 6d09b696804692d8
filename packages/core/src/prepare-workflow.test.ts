import { ValidationError } from '@orch/errors';
import { prepareFromTemplate } from './prepare-workflow';
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
