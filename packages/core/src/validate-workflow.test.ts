import { validateTemplate, validateWorkflow } from './validate-workflow';

const wf = (tasks: unknown[], extra: Record<string, unknown> = {}) => ({ id: 'wf', tasks, ...extra });
const t = (id: string, more: Record<string, unknown> = {}) => ({
  id,
  type: 'transform',
  parameters: { output: 1 },
  ...more,
});
const messages = (doc: unknown, inputs: string[] = []) => validateWorkflow(doc, { inputs }).errors;

describe('validateWorkflow', () => {
  it('accepts a valid diamond and returns its DAG', () => {
    const result = validateWorkflow(
      wf([t('a'), t('b', { depends_on: ['a'] }), t('c', { depends_on: ['a'] }), t('d', { depends_on: ['b', 'c'] })]),
    );
    expect(result.errors).toEqual([]);
    expect(result.dag?.levels).toEqual([['a'], ['b', 'c'], ['d']]);
  });

  it('reports schema violations with pointers', () => {
    expect(messages({ tasks: [{ id: 'a', type: 'transform', parameters: { output: 1 }, colour: 'red' }] })).toEqual([
      { pointer: '/id', message: 'is required' },
      { pointer: '/tasks/0/colour', message: "unknown field 'colour'" },
    ]);
  });

  it('reports an empty task list', () => {
    expect(messages(wf([]))).toEqual([{ pointer: '/tasks', message: 'must NOT have fewer than 1 items' }]);
  });

  it('reports duplicate task ids', () => {
    expect(messages(wf([t('a'), t('a')]))).toEqual([
      { pointer: '/tasks/1/id', message: "duplicate task id 'a' (first used by /tasks/0)" },
    ]);
  });

  it('reports task ids unusable in expressions', () => {
    expect(messages(wf([t('my-task')]))[0]).toEqual({
      pointer: '/tasks/0/id',
      message:
        'must start with a letter or _ and hold only letters, digits and _ (it is used in expressions such as ${id.output})',
    });
  });

  it('reports unknown depends_on, on_success and on_failure targets', () => {
    const errors = messages(
      wf([
        t('a', { depends_on: ['ghost'] }),
        { id: 'c', type: 'condition', condition: '${true}', on_success: ['nope'], on_failure: ['a', 'nada'] },
      ]),
    );
    expect(errors).toEqual([
      { pointer: '/tasks/0/depends_on/0', message: "unknown task 'ghost'" },
      { pointer: '/tasks/1/on_success/0', message: "unknown task 'nope'" },
      { pointer: '/tasks/1/on_failure/1', message: "unknown task 'nada'" },
    ]);
  });

  it('reports self-dependency', () => {
    expect(messages(wf([t('a', { depends_on: ['a'] })]))).toEqual([
      { pointer: '/tasks/0/depends_on/0', message: "task 'a' cannot depend on itself" },
    ]);
  });

  it('reports a cycle with its path', () => {
    const errors = messages(
      wf([t('a', { depends_on: ['c'] }), t('b', { depends_on: ['a'] }), t('c', { depends_on: ['b'] }), t('d')]),
    );
    expect(errors).toEqual([{ pointer: '/tasks', message: 'dependency cycle: a -> b -> c -> a' }]);
  });

  it('reports a cycle through a condition branch', () => {
    const errors = messages(
      wf([{ id: 'gate', type: 'condition', condition: '${true}', depends_on: ['x'], on_success: ['x'] }, t('x')]),
    );
    expect(errors).toEqual([{ pointer: '/tasks', message: 'dependency cycle: gate -> x -> gate' }]);
  });

  it('reports unknown variables, with the pointer of the string', () => {
    const errors = messages(wf([t('a', { parameters: { output: { msg: 'hi ${who} and ${known}' } } })]), ['known']);
    expect(errors).toEqual([{ pointer: '/tasks/0/parameters/output/msg', message: "unknown variable 'who'" }]);
  });

  it('accepts workflow variables and inputs by name', () => {
    expect(messages(wf([t('a', { parameters: { output: '${x + y}' } })], { variables: { x: 1 } }), ['y'])).toEqual([]);
  });

  it('reports reading the output of a task that is not a dependency', () => {
    const errors = messages(wf([t('a'), t('b'), t('c', { depends_on: ['b'], parameters: { output: '${a.output}' } })]));
    expect(errors).toEqual([
      {
        pointer: '/tasks/2/parameters/output',
        message: "task 'c' reads the output of 'a' but does not depend on it; add 'a' to depends_on",
      },
    ]);
  });

  it('accepts reading the output of a transitive dependency', () => {
    expect(
      messages(
        wf([
          t('a'),
          t('b', { depends_on: ['a'] }),
          t('c', { depends_on: ['b'], parameters: { output: '${a.output.x[0].y}' } }),
        ]),
      ),
    ).toEqual([]);
  });

  it('requires task references to name output, status or error', () => {
    expect(messages(wf([t('a'), t('b', { depends_on: ['a'], parameters: { output: '${a.result}' } })]))).toEqual([
      { pointer: '/tasks/1/parameters/output', message: "'a' is a task: read ${a.output} (or .status, .error)" },
    ]);
  });

  it('reports expressions that do not parse', () => {
    const [error] = messages(wf([t('a', { parameters: { output: '${1 +}' } })]));
    expect(error?.pointer).toBe('/tasks/0/parameters/output');
    expect(error?.message).toMatch(/^invalid expression "1 \+"/);
  });

  it('reports bad durations', () => {
    expect(
      messages(wf([t('a', { timeout: 'ten minutes', retry_policy: { max_retries: 1, initial_delay: '1 s' } })])),
    ).toEqual([
      {
        pointer: '/tasks/0/retry_policy/initial_delay',
        message: 'must be a duration: seconds as a number, or a string like 500ms, 1s, 5m, 3600s, 24h',
      },
      {
        pointer: '/tasks/0/timeout',
        message: 'must be a duration: seconds as a number, or a string like 500ms, 1s, 5m, 3600s, 24h',
      },
    ]);
  });

  it('reports max_delay shorter than initial_delay', () => {
    expect(
      messages(wf([t('a', { retry_policy: { max_retries: 3, initial_delay: '2s', max_delay: '500ms' } })])),
    ).toEqual([
      { pointer: '/tasks/0/retry_policy/max_delay', message: 'max_delay must not be shorter than initial_delay' },
    ]);
  });

  it('reports unknown task types with the known ones', () => {
    expect(messages(wf([{ id: 'a', type: 'email' }]))).toEqual([
      {
        pointer: '/tasks/0/type',
        message:
          "unknown task type 'email'; known types: data, ai, exec, http, parallel, condition, transform, workflow, approval, delay",
      },
    ]);
  });

  it('checks each type’s parameters, allowing expressions for typed values', () => {
    const errors = messages(
      wf([
        { id: 'd', type: 'data', parameters: { operation: 'drop', top_k: '${k}' } },
        { id: 'e', type: 'exec', parameters: { image: 'alpine', command: 'rm -rf /' } },
        { id: 'ai', type: 'ai', parameters: {} },
        { id: 'w', type: 'delay', parameters: { duration: 'soon' } },
      ]),
      ['k'],
    );
    expect(errors).toEqual([
      { pointer: '/tasks/0/parameters/operation', message: 'must be one of: "traverse", "search", "enrich"' },
      { pointer: '/tasks/1/parameters/command', message: 'must be array' },
      { pointer: '/tasks/2/parameters/prompt', message: 'is required' },
      {
        pointer: '/tasks/3/parameters/duration',
        message: 'must be a duration: seconds as a number, or a string like 500ms, 1s, 5m, 3600s, 24h',
      },
    ]);
  });

  it('requires a condition on condition tasks and forbids branches elsewhere', () => {
    expect(messages(wf([{ id: 'c', type: 'condition' }, t('x', { on_success: ['c'] })]))).toEqual([
      { pointer: '/tasks/0/condition', message: 'is required for a \'condition\' task, for example "${score > 0.8}"' },
      { pointer: '/tasks/1/on_success', message: "only 'condition' tasks have on_success" },
    ]);
  });

  it('lets for_each sub-tasks read item and index, and nothing else new', () => {
    const doc = wf([
      t('src'),
      {
        id: 'fan',
        type: 'parallel',
        depends_on: ['src'],
        parameters: {
          for_each: '${src.output}',
          task: { type: 'transform', parameters: { output: '${item * index + bogus}' } },
        },
      },
    ]);
    expect(messages(doc)).toEqual([
      { pointer: '/tasks/1/parameters/task/parameters/output', message: "unknown variable 'bogus'" },
    ]);
  });

  it('reports all problems at once', () => {
    const errors = messages(
      wf([
        t('a', { depends_on: ['zz'] }),
        t('a'),
        { id: 'b', type: 'nope' },
        t('c', { parameters: { output: '${q}' } }),
      ]),
    );
    expect(errors.map((e) => e.pointer)).toEqual([
      '/tasks/1/id',
      '/tasks/0/depends_on/0',
      '/tasks/2/type',
      '/tasks/3/parameters/output',
    ]);
  });

  it('rejects a variable named like a task', () => {
    expect(messages(wf([t('a')], { variables: { a: 1 } }))).toEqual([
      { pointer: '/variables', message: "variable 'a' has the same name as a task; rename one" },
    ]);
  });
});

describe('validateTemplate', () => {
  const template = (more: Record<string, unknown> = {}) => ({
    id: 'tpl',
    name: 'T',
    version: '1.0',
    variables: [{ name: 'limit', type: 'integer', default: 10 }],
    workflow: wf([t('a', { parameters: { output: '${limit}' } })], { variables: { limit2: '${limit}' } }),
    ...more,
  });

  it('accepts a template whose expressions use its variables', () => {
    expect(validateTemplate(template()).errors).toEqual([]);
  });

  it('points into the workflow and explains an unquoted version', () => {
    const errors = validateTemplate(
      template({ version: 1, workflow: wf([t('a', { parameters: { output: '${nope}' } })]) }),
    ).errors;
    expect(errors).toEqual([
      { pointer: '/version', message: 'must be a string: quote it in YAML, as in version: "1.0"' },
      { pointer: '/workflow/tasks/0/parameters/output', message: "unknown variable 'nope'" },
    ]);
  });

  it('checks variable declarations', () => {
    const errors = validateTemplate(
      template({ variables: [{ name: 'limit', type: 'integer', default: 'many' }, { name: 'limit' }] }),
    ).errors;
    expect(errors).toEqual([
      { pointer: '/variables/0/default', message: "default does not match type 'integer'" },
      { pointer: '/variables/1/name', message: "duplicate variable 'limit'" },
    ]);
  });
});
