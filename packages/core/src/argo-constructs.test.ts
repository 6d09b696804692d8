import { prepareInline } from './prepare-workflow';
import { targetWorkflow } from './targets';
import { validateWorkflow } from './validate-workflow';

const t = (id: string, more: Record<string, unknown> = {}) => ({
  id,
  type: 'transform',
  parameters: { output: 1 },
  ...more,
});
const wf = (tasks: unknown[], extra: Record<string, unknown> = {}) => ({ id: 'wf', tasks, ...extra });
const messages = (doc: unknown, inputs: string[] = []) => validateWorkflow(doc, { inputs }).errors;

describe('on_exit (exit handlers)', () => {
  it('accepts handlers that read ${workflow.*}, any task, and each other through depends_on', () => {
    const doc = wf([t('work')], {
      on_exit: [
        t('notify', { parameters: { output: '${workflow.status} ${workflow.failures} ${work.status}' } }),
        t('after', { depends_on: ['notify'], parameters: { output: '${notify.output}' } }),
      ],
    });
    const result = validateWorkflow(doc);
    expect(result.errors).toEqual([]);
    expect(result.exitDag?.roots).toEqual(['notify']);
    expect(result.reads?.get('notify')).toEqual(['work']);
    const { compiled } = prepareInline(doc);
    expect(Object.keys(compiled.tasks)).toEqual(['work']);
    expect(compiled.exitRoots).toEqual(['notify']);
    expect(compiled.exitTasks?.after).toMatchObject({ deps: ['notify'], exit: true, reads: ['notify'] });
  });

  it('keeps the two lists apart: ids, edges, and ${workflow} only in handlers', () => {
    expect(
      messages(
        wf([t('a', { depends_on: ['cleanup'] }), t('b', { parameters: { output: '${workflow.status}' } })], {
          on_exit: [t('cleanup', { depends_on: ['a'] }), t('a')],
        }),
      ),
    ).toEqual([
      { pointer: '/on_exit/1/id', message: "duplicate task id 'a' (first used by /tasks/0)" },
      {
        pointer: '/tasks/0/depends_on/0',
        message: "'cleanup' is an exit handler (on_exit); tasks cannot depend on it",
      },
      {
        pointer: '/on_exit/0/depends_on/0',
        message:
          "'a' is a task, not an exit handler: exit handlers run after every task, so read ${a.output} without depends_on",
      },
      { pointer: '/tasks/1/parameters/output', message: "unknown variable 'workflow'" },
    ]);
  });

  it("refuses a variable named 'workflow' beside exit handlers, and reads of handlers it does not depend on", () => {
    expect(
      messages(
        wf([t('a')], {
          variables: { workflow: 1 },
          on_exit: [t('x'), t('y', { parameters: { output: '${x.output}' } })],
        }),
      ),
    ).toEqual([
      {
        pointer: '/on_exit',
        message: "exit handlers read the run as ${workflow.status}: rename the variable or task named 'workflow'",
      },
      {
        pointer: '/on_exit/1/parameters/output',
        message: "task 'y' reads the output of 'x' but does not depend on it; add 'x' to depends_on",
      },
    ]);
  });
});

describe('a task whose own condition guards it (Argo when)', () => {
  it('compiles the condition of a non-condition task into its guard', () => {
    const { compiled } = prepareInline(
      wf([t('a', { condition: 'x > 1' }), { id: 'c', type: 'condition', condition: '${x}' }], { variables: { x: 2 } }),
    );
    expect(compiled.tasks.a?.when).toBe('${x > 1}');
    expect(compiled.tasks.c?.when).toBeUndefined();
  });
});

describe('inline sub-workflows are their own scope', () => {
  const child = wf([t('inner', { parameters: { output: '${message}' } })]);

  it("leaves the child's expressions to the child, checked against the variables it is given", () => {
    expect(
      messages(wf([{ id: 'sub', type: 'workflow', parameters: { workflow: child, variables: { message: 'A' } } }])),
    ).toEqual([]);
    expect(messages(wf([{ id: 'sub', type: 'workflow', parameters: { workflow: child } }]))).toEqual([
      { pointer: '/tasks/0/parameters/workflow/tasks/0/parameters/output', message: "unknown variable 'message'" },
    ]);
  });

  it("does not let a parent variable leak into the child's definition", () => {
    const doc = wf(
      [{ id: 'sub', type: 'workflow', parameters: { workflow: child, variables: { message: '${message}' } } }],
      {
        variables: { message: 'parent' },
      },
    );
    expect(messages(doc)).toEqual([]);
    expect(prepareInline(doc).compiled.tasks.sub?.reads).toEqual([]);
  });
});

describe('targetWorkflow (Argo dag-targets)', () => {
  // A -> B, A -> C, (B, C) -> D, C -> E
  const dag = wf([
    t('A'),
    t('B', { depends_on: ['A'] }),
    t('C', { depends_on: ['A'] }),
    t('D', { depends_on: ['B', 'C'] }),
    t('E', { depends_on: ['C'] }),
  ]);

  it('keeps the targets and what they depend on; the rest is left out', () => {
    const { compiled } = targetWorkflow(prepareInline(dag), ['E']);
    expect(compiled.untargeted).toEqual(['B', 'D']);
    expect(compiled.roots).toEqual(['A']);
    expect(compiled.tasks.A?.dependents).toEqual(['C']);
    expect(compiled.tasks.C?.dependents).toEqual(['E']);
  });

  it('names unknown targets and exit handlers with pointers', () => {
    const prepared = prepareInline({ ...dag, on_exit: [t('bye')] });
    expect(() => targetWorkflow(prepared, ['E', 'nope', 'bye'])).toThrow(
      expect.objectContaining({
        details: [
          { pointer: '/targets/1', message: "unknown task 'nope'; the workflow's tasks are: A, B, C, D, E" },
          {
            pointer: '/targets/2',
            message: "'bye' is an exit handler; exit handlers always run and cannot be targets",
          },
        ],
      }),
    );
  });
});
