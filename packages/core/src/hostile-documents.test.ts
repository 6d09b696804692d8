import { prepareInline } from './prepare-workflow';
import { validateTemplate, validateWorkflow } from './validate-workflow';

/** Documents written to break the validator or what runs after it; each must come back as located errors. */

const RESERVED = 'must not be __proto__, constructor or prototype: JavaScript objects reserve those names';
const transform = (id: string, more: Record<string, unknown> = {}) => ({
  id,
  type: 'transform',
  parameters: { output: 1 },
  ...more,
});
const errors = (doc: unknown) => validateWorkflow(doc).errors;
/** As JSON.parse makes it: `__proto__` an own key, as in a request body. */
const parsed = (text: string) => JSON.parse(text) as unknown;

describe('reserved names, wherever an id or name becomes a key', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('refuses %s as a task id', (id) => {
    const doc = { id: 'w', tasks: [transform(id)] };
    expect(errors(doc)).toEqual([{ pointer: '/tasks/0/id', message: RESERVED }]);
    expect(() => prepareInline(doc, {})).toThrow('workflow is invalid');
  });

  it('refuses them as workflow variable names, from a parsed body', () => {
    const doc = parsed(
      '{"id":"w","variables":{"__proto__":{"x":1},"prototype":2,"ok":3},"tasks":[{"id":"a","type":"transform"}]}',
    );
    expect(errors(doc)).toEqual(
      expect.arrayContaining([
        { pointer: '/variables/__proto__', message: RESERVED },
        { pointer: '/variables/prototype', message: RESERVED },
      ]),
    );
    expect(() => prepareInline(doc, {})).toThrow('workflow is invalid');
  });

  it('refuses them as sub-task ids, in a list and per item', () => {
    const doc = {
      id: 'w',
      tasks: [
        {
          id: 'fan',
          type: 'parallel',
          parameters: { tasks: [{ id: 'constructor', type: 'transform', parameters: { output: 1 } }] },
        },
        {
          id: 'each',
          type: 'parallel',
          parameters: { for_each: [1], task: { id: '__proto__', type: 'transform', parameters: { output: 1 } } },
        },
      ],
    };
    expect(errors(doc)).toEqual(
      expect.arrayContaining([
        { pointer: '/tasks/0/parameters/tasks/0/id', message: RESERVED },
        { pointer: '/tasks/1/parameters/task/id', message: RESERVED },
      ]),
    );
  });

  it("refuses them as a sub-workflow's variable names", () => {
    const doc = parsed(
      '{"id":"w","tasks":[{"id":"s","type":"workflow","parameters":{"template":"t","variables":{"__proto__":1}}}]}',
    );
    expect(errors(doc)).toContainEqual({ pointer: '/tasks/0/parameters/variables/__proto__', message: RESERVED });
  });

  it('refuses them as template ids, declared variable names and scheduled variable names', () => {
    const template = parsed(`{
      "id": "constructor", "name": "T",
      "variables": [{"name": "prototype"}],
      "schedule": {"cron": "* * * * *", "variables": {"__proto__": 1}},
      "workflow": {"id": "w", "tasks": [{"id": "a", "type": "transform", "parameters": {"output": 1}}]}
    }`);
    expect(validateTemplate(template).errors).toEqual(
      expect.arrayContaining([
        { pointer: '/id', message: RESERVED },
        { pointer: '/variables/0/name', message: RESERVED },
        { pointer: '/schedule/variables/__proto__', message: RESERVED },
      ]),
    );
  });
});

describe('values of the wrong type do not crash the validator', () => {
  it.each([['a'], [7], [{ a: true }], [null]])('reports depends_on given as %j', (value) => {
    const doc = { id: 'w', tasks: [transform('a'), transform('b', { depends_on: value, on_failure: value })] };
    expect(errors(doc)).toContainEqual({
      pointer: '/tasks/1/depends_on',
      message: 'must be a list of distinct task ids, such as ["fetch"]',
    });
  });

  it('reports a condition task whose branches are strings', () => {
    const doc = {
      id: 'w',
      tasks: [transform('a'), { id: 'c', type: 'condition', condition: '${true}', on_success: 'a' }],
    };
    expect(errors(doc)).toContainEqual({
      pointer: '/tasks/1/on_success',
      message: 'must be a list of distinct task ids, such as ["fetch"]',
    });
  });

  it('reports a template variable of an unknown type that has a default', () => {
    const template = {
      id: 't',
      name: 'T',
      variables: [{ name: 'v', type: 'colour', default: 'red' }],
      workflow: { id: 'w', tasks: [transform('a')] },
    };
    expect(validateTemplate(template).errors).toEqual([
      {
        pointer: '/variables/0/type',
        message: 'must be one of: "string", "number", "integer", "boolean", "object", "array"',
      },
    ]);
  });
});

describe('what would escape a directory is refused at submit', () => {
  const workflowTask = (template: string) => ({
    id: 'w',
    tasks: [{ id: 's', type: 'workflow', parameters: { template } }],
  });
  const TEMPLATE_MESSAGE = 'must be a catalog template id, optionally with @version (such as data-analysis-basic@1.0)';

  it.each(['../../etc/passwd', '/etc/passwd', 'a/b', 'ok@1.0/../x', 'a\\b', 'Data'])(
    'refuses the sub-workflow template %j',
    (template) => {
      expect(errors(workflowTask(template))).toEqual([
        { pointer: '/tasks/0/parameters/template', message: TEMPLATE_MESSAGE },
      ]);
    },
  );

  it.each(['data-analysis-basic', 'data-analysis-basic@1.0', 'x.y_z@2.0-beta'])(
    'accepts the template %j',
    (template) => {
      expect(errors(workflowTask(template))).toEqual([]);
    },
  );

  const execTask = (name: string) => ({
    id: 'w',
    tasks: [
      { id: 'e', type: 'exec', parameters: { image: 'alpine', command: ['ls'], files: [{ name, content: '' }] } },
    ],
  });
  const FILE_MESSAGE = 'must be a relative file path inside /workspace/input: no leading /, no .. part, no \\ or NUL';

  it.each(['../x', 'a/../../b', '..', 'a/..', '/etc/passwd', 'a\\..\\b', 'dir/', '.', 'a\u0000b'])(
    'refuses the exec file name %j',
    (name) => {
      expect(errors(execTask(name))).toEqual([{ pointer: '/tasks/0/parameters/files/0/name', message: FILE_MESSAGE }]);
    },
  );

  it.each(['input.csv', 'dir/data.json', '.hidden', '...', 'a..b/c'])('accepts the exec file name %j', (name) => {
    expect(errors(execTask(name))).toEqual([]);
  });
});

describe('ai parameters', () => {
  it('refuses unknown keys like the other closed schemas, naming the key', () => {
    const doc = { id: 'w', tasks: [{ id: 'a', type: 'ai', parameters: { prompt: 'hi', temprature: 0.2 } }] };
    expect(errors(doc)).toEqual([{ pointer: '/tasks/0/parameters/temprature', message: "unknown field 'temprature'" }]);
  });
});

describe('edges that name reserved ids', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('reports a condition branch to %s', (target) => {
    const doc = {
      id: 'w',
      tasks: [
        transform('a'),
        { id: 'c', type: 'condition', condition: '${true}', on_success: [target], depends_on: [target] },
      ],
    };
    const found = errors(doc);
    expect(found).toContainEqual({ pointer: '/tasks/1/on_success/0', message: `unknown task '${target}'` });
    expect(found).toContainEqual({ pointer: '/tasks/1/depends_on/0', message: `unknown task '${target}'` });
  });

  it('analyses a graph whose task is named __proto__ without losing or inventing edges', () => {
    const doc = { id: 'w', tasks: [transform('__proto__'), transform('b', { depends_on: ['__proto__'] })] };
    const result = validateWorkflow(doc);
    expect(result.errors).toEqual([{ pointer: '/tasks/0/id', message: RESERVED }]);
    expect(result.dag?.dependencies.b).toEqual(['__proto__']);
    expect(result.dag?.order).toEqual(['__proto__', 'b']);
  });
});
