import { checkRequiredServices } from './check-services';
import { parseReply } from './parse-reply';

describe('parseReply', () => {
  it('reads JSON, also inside a Markdown fence, and unwraps a whole template', () => {
    expect(parseReply('{"id":"a","tasks":[]}')).toEqual({ ok: true, value: { id: 'a', tasks: [] } });
    expect(parseReply('```json\n{"id":"a","tasks":[]}\n```')).toEqual({ ok: true, value: { id: 'a', tasks: [] } });
    expect(parseReply('{"id":"t","name":"T","workflow":{"id":"w","tasks":[]}}')).toEqual({
      ok: true,
      value: { id: 'w', tasks: [] },
    });
  });

  it('reports an empty reply', () => {
    expect(parseReply(null)).toEqual({
      ok: false,
      error: { pointer: '', message: 'reply is not JSON: the reply is empty' },
    });
    expect(parseReply('  ')).toEqual({
      ok: false,
      error: { pointer: '', message: 'reply is not JSON: the reply is empty' },
    });
  });
});

describe('checkRequiredServices', () => {
  it('points at every disallowed type, parallel sub-tasks included', () => {
    const workflow = {
      tasks: [
        { id: 'a', type: 'data' },
        { id: 'b', type: 'parallel', parameters: { tasks: [{ type: 'ai' }, { type: 'exec' }] } },
        { id: 'c', type: 'parallel', parameters: { for_each: [], task: { type: 'exec' } } },
        { id: 'd', type: 'transform' },
      ],
    };
    const message = "task type 'exec' is not allowed: required_services is data, ai";
    expect(checkRequiredServices(workflow, ['data', 'ai'])).toEqual([
      { pointer: '/tasks/1/parameters/tasks/1/type', message },
      { pointer: '/tasks/2/parameters/task/type', message },
    ]);
    expect(checkRequiredServices(workflow, [])).toEqual([
      { pointer: '/tasks/0/type', message: "task type 'data' is not allowed: required_services is none" },
      {
        pointer: '/tasks/1/parameters/tasks/0/type',
        message: "task type 'ai' is not allowed: required_services is none",
      },
      {
        pointer: '/tasks/1/parameters/tasks/1/type',
        message: "task type 'exec' is not allowed: required_services is none",
      },
      {
        pointer: '/tasks/2/parameters/task/type',
        message: "task type 'exec' is not allowed: required_services is none",
      },
    ]);
    expect(checkRequiredServices('nonsense', [])).toEqual([]);
  });
});
