import { validateWorkflow } from './validate-workflow';
import { workflowOutputReads } from './workflow-output';

const t = (id: string, more: Record<string, unknown> = {}) => ({
  id,
  type: 'transform',
  parameters: { output: 1 },
  ...more,
});
const wf = (output: unknown) => ({
  id: 'wf',
  variables: { region: 'eu' },
  tasks: [t('a'), t('b', { depends_on: ['a'] })],
  on_exit: [t('notify')],
  output,
});
const errors = (output: unknown, inputs: string[] = []) => validateWorkflow(wf(output), { inputs }).errors;

describe("a workflow's output", () => {
  it('may be one expression or any JSON with expressions over variables, inputs and any task', () => {
    expect(errors('${b.output}')).toEqual([]);
    expect(errors({ total: '${a.output + b.output}', region: '${region}', by: '${who}', ok: true }, ['who'])).toEqual(
      [],
    );
    expect(errors(['${a.status}', '${b.error}'])).toEqual([]);
  });

  it('names, at its pointer, what it may not read', () => {
    expect(errors({ x: '${nope.output}' })).toEqual([
      {
        pointer: '/output/x',
        message: "unknown name 'nope': the workflow's output reads variables and tasks (${task.output})",
      },
    ]);
    expect(errors('${a}')).toEqual([
      { pointer: '/output', message: "'a' is a task: read ${a.output} (or .status, .error)" },
    ]);
    // Exit handlers run after the result is decided.
    expect(errors('${notify.output}')[0]?.message).toMatch(/^unknown name 'notify'/);
    expect(errors({ x: '${a.output' })[0]).toMatchObject({ pointer: '/output/x' });
  });

  it('lists the tasks it reads', () => {
    expect(workflowOutputReads(wf({ s: '${a.output + b.output + a.output}', r: '${region}' }) as never)).toEqual([
      'a',
      'b',
    ]);
  });
});
