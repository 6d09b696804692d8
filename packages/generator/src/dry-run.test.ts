import { ValidationError } from '@orch/errors';
import { dryRun } from './dry-run';

const TRIAGE = {
  id: 'triage',
  variables: { threshold: 0.5, score: 0.8 },
  tasks: [
    { id: 'search', type: 'data', parameters: { operation: 'search', collection: 'docs', text: 'x', top_k: 3 } },
    {
      id: 'gate',
      type: 'condition',
      depends_on: ['search'],
      condition: '${score > threshold}',
      on_success: ['publish'],
      on_failure: ['flag'],
    },
    {
      id: 'publish',
      type: 'transform',
      parameters: { output: { status: 'published', found: '${search.output.count}' } },
    },
    { id: 'flag', type: 'ai', parameters: { prompt: 'Why is ${score} low?' } },
    { id: 'explain', type: 'transform', depends_on: ['flag'], parameters: { output: '${flag.output.text}' } },
    { id: 'join', type: 'transform', depends_on: ['publish', 'flag'], parameters: { output: { done: true } } },
  ],
};

describe('dryRun', () => {
  it("skips a task whose own condition is false, as Argo's when does", () => {
    const result = dryRun({
      id: 'when',
      variables: { coin: 'tails' },
      tasks: [
        { id: 'heads', type: 'transform', condition: '${coin == "heads"}', parameters: { output: 'it was heads' } },
        { id: 'tails', type: 'transform', condition: '${coin == "tails"}', parameters: { output: 'it was tails' } },
        { id: 'after', type: 'transform', depends_on: ['heads'], parameters: { output: 1 } },
      ],
    });
    expect(result.tasks).toEqual({
      heads: { status: 'skipped', reason: 'condition false' },
      tails: { status: 'completed', output: 'it was tails' },
      after: { status: 'skipped', reason: 'upstream skipped' },
    });
  });

  it('runs exit handlers last, with the outcome of the tasks as ${workflow}', () => {
    const result = dryRun({
      id: 'exit',
      tasks: [
        { id: 'fetch', type: 'data', parameters: { operation: 'search', collection: 'docs', text: 'x' } },
        {
          id: 'work',
          type: 'transform',
          depends_on: ['fetch'],
          parameters: { output: '${fetch.output.rows[0].name}' },
        },
      ],
      on_exit: [
        { id: 'notify', type: 'transform', parameters: { output: '${workflow.status}: ${len(workflow.failures)}' } },
        {
          id: 'celebrate',
          type: 'transform',
          condition: '${workflow.status == "completed"}',
          parameters: { output: 1 },
        },
      ],
    });
    expect(result.tasks.work?.status).toBe('failed');
    expect(result.tasks.notify).toEqual({ status: 'completed', output: 'failed: 1' });
    expect(result.tasks.celebrate).toEqual({ status: 'skipped', reason: 'condition false' });
  });

  it('takes the on_success branch when the condition holds and skips the other one', () => {
    expect(dryRun(TRIAGE)).toEqual({
      tasks: {
        search: { status: 'completed', output: { rows: [], matches: [], count: 0 } },
        gate: { status: 'completed', output: { result: true, value: true } },
        publish: { status: 'completed', output: { status: 'published', found: 0 } },
        flag: { status: 'skipped', reason: 'branch not taken' },
        explain: { status: 'skipped', reason: 'upstream skipped' },
        join: { status: 'completed', output: { done: true } },
      },
      branches: [{ task: 'gate', result: true, taken: ['publish'], skipped: ['flag'] }],
      errors: [],
    });
  });

  it('takes the on_failure branch when it does not', () => {
    expect(dryRun(TRIAGE, { variables: { score: 0.2 } })).toEqual({
      tasks: {
        search: { status: 'completed', output: { rows: [], matches: [], count: 0 } },
        gate: { status: 'completed', output: { result: false, value: false } },
        publish: { status: 'skipped', reason: 'branch not taken' },
        flag: {
          status: 'completed',
          output: { text: '(dry run)', json: {}, model: 'dry-run', usage: { prompt_tokens: 0, completion_tokens: 0 } },
        },
        explain: { status: 'completed', output: '(dry run)' },
        join: { status: 'completed', output: { done: true } },
      },
      branches: [{ task: 'gate', result: false, taken: ['flag'], skipped: ['publish'] }],
      errors: [],
    });
  });

  it('collects runtime reference errors with pointers and does not run what depends on the failed task', () => {
    const result = dryRun({
      id: 'names',
      tasks: [
        { id: 'fetch', type: 'data', parameters: { operation: 'traverse', query: { cypher: 'MATCH (n) RETURN n' } } },
        {
          id: 'first',
          type: 'transform',
          depends_on: ['fetch'],
          parameters: {
            output: {
              name: '${fetch.output.rows[0].name}',
              total: '${fetch.output.count}',
              label: 'a ${fetch.output.rows[0]}',
            },
          },
        },
        { id: 'report', type: 'ai', depends_on: ['first'], parameters: { prompt: 'Write about ${first.output.name}' } },
        {
          id: 'run',
          type: 'exec',
          depends_on: ['fetch'],
          parameters: { image: 'alpine', command: ['echo', '${string(fetch.output.count)}'] },
        },
      ],
    });
    expect(result.errors).toEqual([
      {
        task: 'first',
        pointer: '/tasks/1/parameters/output/name',
        message: 'cannot read \'name\' of undefined in "fetch.output.rows[0].name"',
      },
      {
        task: 'first',
        pointer: '/tasks/1/parameters/output/label',
        message:
          'expression "fetch.output.rows[0]" is undefined in "a ${fetch.output.rows[0]}"; use default(value, fallback) to supply a fallback',
      },
    ]);
    expect(result.tasks).toEqual({
      fetch: { status: 'completed', output: { rows: [], matches: [], count: 0 } },
      first: { status: 'failed', error: 'cannot read \'name\' of undefined in "fetch.output.rows[0].name"' },
      report: { status: 'skipped', error: "not run: 'first' failed" },
      run: { status: 'completed', output: { exit_code: 0, stdout: '', stderr: '', files: [], json: {} } },
    });
  });

  it('maps parallel tasks over for_each and over a fixed list, and returns from delays at once', () => {
    const result = dryRun({
      id: 'fan',
      variables: { items: [1, 2] },
      tasks: [
        {
          id: 'each',
          type: 'parallel',
          parameters: {
            for_each: '${items}',
            task: { type: 'transform', parameters: { output: '${item * 10 + index}' } },
          },
        },
        {
          id: 'both',
          type: 'parallel',
          depends_on: ['each'],
          parameters: {
            tasks: [
              { type: 'data', parameters: { operation: 'search', text: '${string(each.output[1])}' } },
              { type: 'transform', parameters: { output: '${len(each.output)}' } },
            ],
          },
        },
        { id: 'pause', type: 'delay', depends_on: ['both'], parameters: { duration: '1h' } },
        {
          id: 'none',
          type: 'parallel',
          parameters: { for_each: '${len(items)}', task: { type: 'ai', parameters: { prompt: 'x' } } },
        },
      ],
    });
    expect(result.tasks).toEqual({
      each: { status: 'completed', output: [10, 21] },
      both: { status: 'completed', output: [{ rows: [], matches: [], count: 0 }, 2] },
      pause: { status: 'completed', output: {} },
      none: { status: 'failed', error: 'must be a list; got 2' },
    });
    expect(result.errors).toEqual([
      { task: 'none', pointer: '/tasks/3/parameters/for_each', message: 'must be a list; got 2' },
    ]);
  });

  it('throws the validator error for a workflow that does not validate', () => {
    expect(() => dryRun({ id: 'x', tasks: [{ id: 'a', type: 'transform', parameters: {} }] })).toThrow(ValidationError);
  });
});
