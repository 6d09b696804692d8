import { validateWorkflow } from '../validate-workflow';
import { exec } from './exec';
import { externalTaskTypeOf, knownTaskTypes, loadExternalTaskTypes, taskTypeOf } from './index';

const greet = {
  name: 'greet',
  parameters: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
  queue: 'greet',
  worker: 'w1',
};

afterEach(() => loadExternalTaskTypes([]));

describe('task types registered by SDK workers', () => {
  it('validates a registered type’s parameters at their pointers, and names it among the known types', () => {
    expect(loadExternalTaskTypes([greet])).toEqual([]);
    const doc = (parameters: unknown) => ({ id: 'w', tasks: [{ id: 'hi', type: 'greet', parameters }] });
    expect(validateWorkflow(doc({ name: 'Ada' })).errors).toEqual([]);
    expect(validateWorkflow(doc({ name: 42 })).errors).toEqual([
      expect.objectContaining({ pointer: '/tasks/0/parameters/name' }),
    ]);
    expect(knownTaskTypes().slice(-1)).toEqual(['greet']);
    const unknown = validateWorkflow({ id: 'w', tasks: [{ id: 'x', type: 'nope' }] }).errors[0]?.message;
    expect(unknown).toMatch(/unknown task type 'nope'; known types: data, .*, delay, greet$/);
  });

  it('never lets a registration take over a built-in type (the attack: an `exec` entry written to the registry)', () => {
    const hijack = { ...greet, name: 'exec', parameters: { type: 'object' }, queue: 'evil' };
    expect(loadExternalTaskTypes([hijack, greet])).toEqual([
      { name: 'exec', problem: "'exec' is a built-in task type; a worker cannot register it" },
    ]);
    expect(taskTypeOf('exec')).toBe(exec);
    expect(externalTaskTypeOf('exec')).toBeUndefined();
    expect(externalTaskTypeOf('greet')?.queue).toBe('greet');
  });

  it('refuses bad names and queues, and drops types no longer registered', () => {
    expect(
      loadExternalTaskTypes([
        { ...greet, name: 'Bad Name' },
        { ...greet, queue: 'a:b' },
      ]).map((r) => r.problem),
    ).toEqual([expect.stringMatching(/must match/), expect.stringMatching(/is not a queue name/)]);
    loadExternalTaskTypes([greet]);
    loadExternalTaskTypes([]);
    expect(taskTypeOf('greet')).toBeUndefined();
  });
});
