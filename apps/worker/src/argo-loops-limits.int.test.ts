import type { ExecutionEvent } from '@orch/run-model';
import { type ArgoStack, exampleWorkflow, mostAtOnce, startArgoStack, tasksOf } from './test-argo';

jest.setTimeout(120_000);

let stack: ArgoStack;
beforeAll(async () => {
  stack = await startArgoStack();
});
afterAll(() => stack?.stop());

const item = (type: string) => (e: ExecutionEvent) => e.type === type && e.item !== undefined;
const itemKey = (e: ExecutionEvent) => `${e.task}[${e.item}]`;

describe('Argo examples: loops, retries, timeouts', () => {
  it('loops-maps: one item per map, reading ${item.image} and ${item.tag}', async () => {
    const { record } = await stack.run({ workflow_template: 'loops-maps' });
    expect(record.status).toBe('completed');
    const outputs = tasksOf(record).test_linux?.output as { exit_code: number; stdout: string }[];
    expect(outputs).toHaveLength(4);
    for (const o of outputs) expect(o).toMatchObject({ exit_code: 0, stdout: expect.stringMatching(/^ID=/m) });
  });

  it('loops-param-result: fans out over the list the first task printed', async () => {
    const { record } = await stack.run({ workflow_template: 'loops-param-result' });
    expect(record.status).toBe('completed');
    const tasks = tasksOf(record);
    expect((tasks.generate?.output as { json?: number[] } | undefined)?.json).toEqual([
      20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
    ]);
    const slept = ((tasks.sleep?.output ?? []) as { stdout: string }[]).map((o) => o.stdout);
    expect(slept).toHaveLength(11);
    expect(slept[0]).toBe('sleeping for 0.2 seconds\ndone\n');
    expect(slept[10]).toBe('sleeping for 0.3 seconds\ndone\n');
  });

  it('retry-backoff: 10 retries with exponential delays up to the cap, then the task fails', async () => {
    const workflow = exampleWorkflow('retry-backoff.yaml');
    // Argo's 1 s doubling to a 5 s cap, scaled down to 40 ms doubling to 160 ms.
    const [task] = workflow.tasks as unknown as [{ retry_policy: Record<string, unknown> }];
    task.retry_policy = { ...task.retry_policy, initial_delay: '40ms', max_delay: '160ms' };
    const { record, events } = await stack.run({ workflow, variables: { exit_codes: [1] } });
    expect(record.status).toBe('failed');
    expect(tasksOf(record).retry_backoff).toMatchObject({ status: 'failed', attempts: 11 });
    const times = (type: string) => events.filter((e) => e.type === type).map((e) => Date.parse(e.at));
    const [failed, started] = [times('task.retrying'), times('task.started')];
    expect(failed).toHaveLength(10);
    expect(started).toHaveLength(11);
    // Each attempt starts at least its backoff after the one before failed: 40, 80, 160, 160, ...
    for (const [k, at] of failed.entries()) {
      expect((started[k + 1] as number) - at).toBeGreaterThanOrEqual(Math.min(40 * 2 ** k, 160));
    }
    const passing = await stack.run({ workflow_template: 'retry-backoff', variables: { exit_codes: [0] } });
    expect(tasksOf(passing.record).retry_backoff).toMatchObject({ status: 'completed', attempts: 1 });
  });

  it('timeouts-workflow: the deadline stops the sleeps and the waits, and the run times out', async () => {
    const workflow = { ...exampleWorkflow('timeouts-workflow.yaml'), timeout: '1s' }; // 30 s in the example
    const started = Date.now();
    const { record } = await stack.run({ workflow });
    expect(record.status).toBe('timed_out');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(record.error).toBe('workflow timed out after 1000 ms');
    for (const t of record.tasks) expect(t.status).toBe('cancelled');
  });

  it("timeouts-step: the task's timeout stops the command; with no retry left the run fails", async () => {
    const workflow = exampleWorkflow('timeouts-step.yaml');
    (workflow.tasks[0] as { timeout: string }).timeout = '1s'; // 10 s in the example
    const { record } = await stack.run({ workflow });
    expect(record.status).toBe('failed');
    // The task's timer and the service call's deadline (the same instant) race; whichever fires first, one message.
    expect(tasksOf(record).sleep?.error).toMatch(/timed out after 1000 ms/);
  });
});

describe('Argo examples: parallelism limits (max_concurrency)', () => {
  it('parallelism-limit: of the ten items, never more than two run at once (the run-wide limit)', async () => {
    const { record, events } = await stack.run({ workflow_template: 'parallelism-limit' });
    expect(record.status).toBe('completed');
    expect(tasksOf(record).sleep?.output).toHaveLength(10);
    expect(events.filter(item('item.started'))).toHaveLength(10);
    expect(events.filter(item('item.finished')).every((e) => e.status === 'completed')).toBe(true);
    expect(mostAtOnce(events, item('item.started'), item('item.finished'), itemKey)).toBe(2);
  });

  it('parallelism-template-limit: the same, with the limit on the loop itself', async () => {
    const { record, events } = await stack.run({ workflow_template: 'parallelism-template-limit' });
    expect(record.status).toBe('completed');
    expect(events.filter(item('item.finished'))).toHaveLength(10);
    expect(mostAtOnce(events, item('item.started'), item('item.finished'), itemKey)).toBe(2);
  });

  it('parallelism-nested-dag: of b2, b3 and b4, two sub-workflows run at once', async () => {
    const { record, events } = await stack.run({ workflow_template: 'parallelism-nested-dag' });
    expect(record.status).toBe('completed');
    const b = (type: string) => (e: ExecutionEvent) => e.type === type && /^b\d$/.test(e.task ?? '');
    expect(mostAtOnce(events, b('task.started'), b('task.completed'), (e) => e.task as string)).toBe(2);
    const child = tasksOf(record).b3?.output as { outputs: Record<string, { stdout: string }> };
    expect(child.outputs.c2?.stdout).toBe('3 c2\n');
  });

  it('holds no worker while waiting: a limit of 1 on a 20-item loop with a worker of 30 slots', async () => {
    const workflow = exampleWorkflow('parallelism-limit.yaml');
    workflow.max_concurrency = 1;
    const loop = workflow.tasks[0] as unknown as { parameters: { for_each: unknown[] } };
    loop.parameters.for_each = Array.from({ length: 20 }, (_, i) => i);
    const id = await stack.submit({ workflow });
    // Waiting items are parked as delayed jobs, not active ones: at most the one running item is active.
    await stack.h.waitForEvent(id, (e) => e.type === 'item.finished' && e.item === 2, 30_000);
    const active = await stack.h.ctx.queues.tasks.getActive();
    expect(active.filter((j) => j.name === 'subtask' && (j.data as { e: string }).e === id).length).toBeLessThanOrEqual(
      1,
    );
    const { events, record } = await stack.follow(id);
    expect(record.status).toBe('completed');
    expect(mostAtOnce(events, item('item.started'), item('item.finished'), itemKey)).toBe(1);
  });
});
