import type { TemplateDefinition } from '@orch/core';
import { allowedTaskTypes, buildSystemPrompt, MAX_EXAMPLES } from './generation-prompt';
import { buildGenerationSchema } from './generation-schema';

const template = (id: string, type: 'ai' | 'exec'): TemplateDefinition => ({
  id,
  name: id.toUpperCase(),
  workflow: {
    id: `${id}-run`,
    tasks: [
      {
        id: 'only',
        type,
        parameters: type === 'ai' ? { prompt: 'hi' } : { image: 'alpine', command: ['true'] },
      },
    ],
  },
});

describe('the generation prompt', () => {
  it('allows the requested services plus the types that call none', () => {
    expect(allowedTaskTypes([])).toEqual(['parallel', 'condition', 'transform', 'workflow', 'approval', 'delay']);
    expect(allowedTaskTypes(['exec'])).toEqual([
      'exec',
      'parallel',
      'condition',
      'transform',
      'workflow',
      'approval',
      'delay',
    ]);
  });

  it('describes only the allowed types and gives only examples that use them, at most MAX_EXAMPLES', () => {
    const templates = [template('one', 'exec'), template('two', 'ai'), template('three', 'ai')];
    const prompt = buildSystemPrompt(['ai'], templates);
    expect(prompt).toContain('- ai: ');
    expect(prompt).not.toContain('- exec: ');
    expect(prompt).not.toContain('- data: ');
    expect(prompt).toContain('Not available for this request: data, exec. Do not use these types.');
    expect(prompt).not.toContain('ONE (one)');
    expect(prompt).toContain('TWO (two)\n{"id":"two-run"');
    expect(prompt).not.toContain('x-message');

    const many = Array.from({ length: MAX_EXAMPLES + 2 }, (_, i) => template(`t${i}`, 'ai'));
    expect(buildSystemPrompt(['ai'], many).match(/^T\d \(t\d\)$/gm)).toEqual(['T0 (t0)', 'T1 (t1)', 'T2 (t2)']);
  });

  it('has no Examples section when no template fits', () => {
    expect(buildSystemPrompt(['data'], [template('one', 'exec')])).not.toContain('## Examples');
  });
});

describe('buildGenerationSchema', () => {
  it('is the workflow schema without ajv-only keywords, with task types narrowed', () => {
    const schema = buildGenerationSchema(['ai', 'transform']);
    const text = JSON.stringify(schema);
    expect(text).not.toMatch(/"x-|"format"/);
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false, required: ['id', 'tasks'] });
    const task = (schema as { properties: { tasks: { items: { properties: Record<string, unknown> } } } }).properties
      .tasks.items;
    expect(task.properties.type).toEqual({ enum: ['ai', 'transform'] });
    expect(task.properties.timeout).toEqual({ type: ['number', 'string'], minimum: 0 });
  });
});
