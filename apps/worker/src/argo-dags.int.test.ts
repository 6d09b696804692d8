import type { ExecutionEvent } from '@orch/run-model';
import { type ArgoStack, exampleWorkflow, indexOfEvent, startArgoStack, tasksOf } from './test-argo';

jest.setTimeout(120_000);

let stack: ArgoStack;
beforeAll(async () => {
  stack = await startArgoStack();
});
afterAll(() => stack?.stop());

const stdout = (output: unknown) => (output as { stdout?: string } | undefined)?.stdout;
const at = (events: ExecutionEvent[], type: string, task: string) =>
  indexOfEvent(events, (e) => e.type === type && e.task === task, `${type} ${task}`);

describe('Argo examples: DAGs, run through the API with real commands', () => {
  it('dag-diamond: A, then B and C, then D', async () => {
    const { record, events } = await stack.run({ workflow_template: 'dag-diamond' });
    expect(record.status).toBe('completed');
    const tasks = tasksOf(record);
    expect(['A', 'B', 'C', 'D'].map((t) => stdout(tasks[t]?.output))).toEqual(['A\n', 'B\n', 'C\n', 'D\n']);
    for (const middle of ['B', 'C']) {
      expect(at(events, 'task.completed', 'A')).toBeLessThan(at(events, 'task.started', middle));
      expect(at(events, 'task.completed', middle)).toBeLessThan(at(events, 'task.started', 'D'));
    }
  });

  it('dag-nested: each inline child diamond reads only its own ${message}, given through variables', async () => {
    // The parent has a `message` of its own: an inline child's definition is its own scope, so it never sees it.
    const { record } = await stack.run({ workflow: exampleWorkflow('dag-nested.yaml'), variables: { message: 'P' } });
    expect(record.status).toBe('completed');
    for (const outer of ['A', 'B', 'C', 'D']) {
      const child = tasksOf(record)[outer]?.output as { outputs: Record<string, { stdout: string }> };
      expect(Object.fromEntries(Object.entries(child.outputs).map(([id, o]) => [id, o.stdout]))).toEqual({
        A: `${outer}A\n`,
        B: `${outer}B\n`,
        C: `${outer}C\n`,
        D: `${outer}D\n`,
      });
    }
  });

  it('dag-conditional-parameters: the side the coin did not show is skipped, "condition false"', async () => {
    const { record, events } = await stack.run({ workflow_template: 'dag-conditional-parameters' });
    expect(record.status).toBe('completed');
    const tasks = tasksOf(record);
    const side = stdout(tasks.flip_coin?.output)?.trim() as 'heads' | 'tails';
    expect(['heads', 'tails']).toContain(side);
    const other = side === 'heads' ? 'tails' : 'heads';
    expect(tasks[side]).toMatchObject({ status: 'completed', output: { stdout: `${side}\n` } });
    expect(tasks[other]).toMatchObject({ status: 'skipped', skip_reason: 'condition false' });
    expect(tasks[other]?.output).toBeUndefined();
    expect(tasks.stepresult?.output).toBe(side);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'task.skipped', task: other, reason: 'condition false' }),
    );
  });

  it('coinflip-recursive: tails runs the template again, deeper than the old limit of 5, until heads', async () => {
    const { record } = await stack.run({ workflow_template: 'coinflip-recursive', variables: { tails_first: 7 } });
    expect(record.status).toBe('completed');
    // Follow the chain of sub-workflows: every level but the last came up tails and ran the next.
    let level = record;
    let depth = 0;
    for (;;) {
      const tasks = tasksOf(level);
      if (tasks.heads?.status === 'completed') break;
      expect(tasks.heads).toMatchObject({ status: 'skipped', skip_reason: 'condition false' });
      const child = (tasks.tails?.output as { execution_id?: string } | undefined)?.execution_id;
      level = (await stack.api.call('GET', `/api/v1/workflows/${child}`)).body;
      depth += 1;
    }
    expect(depth).toBeGreaterThanOrEqual(7);
    expect(stdout(tasksOf(level).heads?.output)).toBe('it was heads\n');
  });

  it('dag-coinflip: a diamond of recursive coin flips, each ending on heads', async () => {
    const { record } = await stack.run({ workflow_template: 'dag-coinflip' });
    expect(record.status).toBe('completed');
    for (const t of ['A', 'B', 'C', 'D']) {
      expect(tasksOf(record)[t]).toMatchObject({ status: 'completed', output: { status: 'completed' } });
    }
  });

  it('dag-enhanced-depends: trigger rules decide who runs after C fails', async () => {
    const { record } = await stack.run({ workflow_template: 'dag-enhanced-depends' });
    expect(record.status).toBe('failed');
    expect(Object.fromEntries(record.tasks.map((t) => [t.id, t.status]))).toEqual({
      A: 'completed',
      B: 'completed',
      C: 'failed',
      should_execute_1: 'completed',
      should_execute_2: 'completed',
      should_not_execute: 'upstream_failed',
      should_execute_3: 'completed',
    });
    expect(record.error).toBe('task failed: C');
  });

  it("dag-continue-on-fail: D runs after B's handled failure, G is not run after E's", async () => {
    const { record } = await stack.run({ workflow_template: 'dag-continue-on-fail' });
    expect(record.status).toBe('failed');
    const status = Object.fromEntries(record.tasks.map((t) => [t.id, t.status]));
    expect(status).toEqual({
      A: 'completed',
      B: 'failed',
      C: 'completed',
      D: 'completed',
      E: 'failed',
      F: 'completed',
      G: 'upstream_failed',
    });
    // B continues on failure: only E fails the run.
    expect(record.error).toBe('task failed: E');
    expect(tasksOf(record).B?.error).toContain('command exited with code 1');
  });

  it('dag-disable-failFast: the B -> D -> E branch finishes although C failed after its retries', async () => {
    const { record } = await stack.run({ workflow_template: 'dag-disable-failfast' });
    expect(record.status).toBe('failed');
    const tasks = tasksOf(record);
    expect(tasks.C).toMatchObject({ status: 'failed', attempts: 4 });
    expect(tasks.C?.error).toContain('command exited with code 2');
    for (const t of ['A', 'B', 'D', 'E']) expect(tasks[t]?.status).toBe('completed');
    expect(stdout(tasks.B?.output)).toBe('haha\n');
  });
});

describe('Argo dag-targets: targets on a submission', () => {
  it('runs E and what it depends on (A, C); B and D are skipped, "not targeted"', async () => {
    const { record, events } = await stack.run({ workflow_template: 'dag-targets', targets: ['E'] });
    expect(record.status).toBe('completed');
    expect(record.tasks.map((t) => [t.id, t.status, t.skip_reason])).toEqual([
      ['A', 'completed', undefined],
      ['B', 'skipped', 'not targeted'],
      ['C', 'completed', undefined],
      ['D', 'skipped', 'not targeted'],
      ['E', 'completed', undefined],
    ]);
    const skips = events.filter((e) => e.type === 'task.skipped').map((e) => [e.task, e.reason]);
    expect(skips).toEqual([
      ['B', 'not targeted'],
      ['D', 'not targeted'],
    ]);
    // Nothing left out ran: no start event for B or D.
    expect(events.filter((e) => e.type === 'task.started').map((e) => e.task)).toEqual(['A', 'C', 'E']);
  });

  it('takes several targets, and without any runs everything', async () => {
    const some = await stack.run({ workflow_template: 'dag-targets', targets: ['B', 'E'] });
    expect(some.record.tasks.filter((t) => t.status === 'skipped').map((t) => t.id)).toEqual(['D']);
    const all = await stack.run({ workflow_template: 'dag-targets' });
    expect(all.record.tasks.every((t) => t.status === 'completed')).toBe(true);
  });

  it('answers 400 naming an unknown target, and a malformed list', async () => {
    const unknown = await stack.api.call('POST', '/api/v1/workflows', {
      body: { workflow_template: 'dag-targets', targets: ['E', 'Z'] },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toEqual([
      { pointer: '/targets/1', message: "unknown task 'Z'; the workflow's tasks are: A, B, C, D, E" },
    ]);
    const empty = await stack.api.call('POST', '/api/v1/workflows', {
      body: { workflow_template: 'dag-targets', targets: [] },
    });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details[0].pointer).toBe('/targets');
  });

  it('takes targets from a bus message too', async () => {
    const { ChannelRecorder } = await import('@orch/api/testing');
    const responses = await ChannelRecorder.start(stack.h, 'workflow-responses');
    try {
      const message = { correlation_id: 'argo-targets-bus', workflow_template: 'dag-targets', targets: ['D'] };
      await stack.h.connection.publish('workflow-requests', JSON.stringify(message));
      const done = await responses.waitFor(
        (m) => m.correlation_id === 'argo-targets-bus' && m.type === 'completed',
        'the final message of the targeted run',
        60_000,
      );
      expect(Object.keys(done.outputs).sort()).toEqual(['A', 'B', 'C', 'D']);
      const record = (await stack.api.call('GET', `/api/v1/workflows/${done.execution_id}`)).body;
      expect(tasksOf(record).E).toMatchObject({ status: 'skipped', skip_reason: 'not targeted' });
    } finally {
      await responses.stop();
    }
  });
});

describe("skipped vs omitted (Argo's Skipped and Omitted node phases)", () => {
  it('tells a branch not taken from a task skipped because what it needs was', async () => {
    const { record, events } = await stack.run({
      workflow: {
        id: 'skip-reasons',
        variables: { score: 0.2 },
        tasks: [
          { id: 'gate', type: 'condition', condition: '${score > 0.5}', on_success: ['publish'], on_failure: ['flag'] },
          { id: 'publish', type: 'exec', parameters: { image: 'busybox', command: ['echo', 'published'] } },
          { id: 'flag', type: 'exec', parameters: { image: 'busybox', command: ['echo', 'flagged'] } },
          { id: 'announce', type: 'transform', depends_on: ['publish'], parameters: { output: 'announced' } },
        ],
      },
    });
    expect(record.status).toBe('completed');
    expect(record.tasks.map((t) => [t.id, t.status, t.skip_reason])).toEqual([
      ['gate', 'completed', undefined],
      ['publish', 'skipped', 'branch not taken'],
      ['flag', 'completed', undefined],
      ['announce', 'skipped', 'upstream skipped'],
    ]);
    expect(events.filter((e) => e.type === 'task.skipped').map((e) => [e.task, e.reason])).toEqual([
      ['publish', 'branch not taken'],
      ['announce', 'upstream skipped'],
    ]);
    const status = await stack.api.call('GET', `/api/v1/workflows/${record.execution_id}/status`);
    expect(tasksOf(status.body).announce?.skip_reason).toBe('upstream skipped');
  });
});
