import { type Harness, startHarness, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 10 });
});
afterAll(() => h.stop());

const transform = (id: string, output: unknown, depends_on: string[] = []) => ({
  id,
  type: 'transform',
  depends_on,
  parameters: { output },
});

describe("a run's result", () => {
  it('is the outputs of its final tasks when the workflow declares no output', async () => {
    const record = await h.run(
      wf([transform('a', 1), transform('b', '${a.output + 1}', ['a']), transform('c', 'side', ['a'])]),
    );
    expect(record.result).toEqual({ b: 2, c: 'side' });
    // `/status` reads no outputs, so it has no result.
    expect((await h.engine.get(record.execution_id, { outputs: false })).result).toBeUndefined();
  });

  it("is the workflow's output, evaluated over its variables and tasks", async () => {
    const record = await h.run(
      wf([transform('a', 20), transform('b', 22, ['a'])], {
        variables: { region: 'eu' },
        output: { answer: '${a.output + b.output}', region: '${region}', states: ['${a.status}', 'fixed'] },
      }),
    );
    expect(record.status).toBe('completed');
    expect(record.result).toEqual({ answer: 42, region: 'eu', states: ['completed', 'fixed'] });
  });

  it('fails the run, saying why, when the output cannot be evaluated', async () => {
    const record = await h.run(wf([transform('a', 'text')], { output: '${a.output.rows[0].name}' }));
    expect(record.status).toBe('failed');
    expect(record.error).toMatch(/^the workflow's output could not be evaluated: /);
    expect(record.result).toBeUndefined();
  });

  it("is what a parent's sub-workflow task gets as `result`", async () => {
    const child = {
      id: 'child',
      tasks: [transform('x', 3), transform('y', '${x.output * 2}', ['x'])],
      output: '${y.output + x.output}',
    };
    const record = await h.run(
      wf([
        { id: 'sub', type: 'workflow', parameters: { workflow: child } },
        transform('after', '${sub.output.result}', ['sub']),
      ]),
    );
    expect(record.status).toBe('completed');
    expect(record.result).toEqual({ after: 9 });
  });
});
