import type { WorkflowDefinition } from '@orch/core';
import type { ExecutionEvent } from '@orch/run-model';
import { type ArgoStack, exampleWorkflow, indexOfEvent, startArgoStack, tasksOf } from './test-argo';

jest.setTimeout(120_000);

/** Exit handlers get this long after a cancel or a timeout (EXIT_GRACE_PERIOD; 30 s by default). */
const GRACE_MS = 1500;

let stack: ArgoStack;
beforeAll(async () => {
  stack = await startArgoStack({ exitGraceMs: GRACE_MS });
});
afterAll(() => stack?.stop());

const stdout = (output: unknown) => (output as { stdout?: string } | undefined)?.stdout ?? '';
const sh = (script: string, ...args: string[]) => ({ image: 'alpine', command: ['sh', '-c', script, 'sh', ...args] });

/** Argo's exit-handlers example with its entrypoint replaced. */
function withTasks(tasks: unknown[], extra: Partial<WorkflowDefinition> = {}): WorkflowDefinition {
  return { ...exampleWorkflow('exit-handlers.yaml'), tasks, ...extra } as WorkflowDefinition;
}

/** The status the e-mail names: `send e-mail: <id> <status> <ms> ms. Failed steps <json>`. */
function email(output: unknown): { status: string; ms: number; failures: unknown } {
  const match = /^send e-mail: \S+ (\S+) (\d+) ms\. Failed steps (.*)$/.exec(stdout(output).trim());
  if (!match) throw new Error(`not an e-mail: ${stdout(output)}`);
  return { status: match[1] as string, ms: Number(match[2]), failures: JSON.parse(match[3] as string) };
}

const typeAt = (events: ExecutionEvent[], type: string, task?: string) =>
  indexOfEvent(events, (e) => e.type === type && (task === undefined || e.task === task), `${type} ${task ?? ''}`);

describe('Argo exit-handlers: on_exit runs once the run has ended, whatever its outcome', () => {
  it('exit-handlers: the entrypoint fails; notify and cry run, celebrate is skipped, and the run stays failed', async () => {
    const { record, events } = await stack.run({ workflow_template: 'exit-handlers' });
    expect(record.status).toBe('failed');
    expect(record.error).toContain('intentional_fail');
    expect(record.tasks.map((t) => [t.id, t.status, t.on_exit, t.skip_reason])).toEqual([
      ['intentional_fail', 'failed', undefined, undefined],
      ['notify', 'completed', true, undefined],
      ['celebrate', 'skipped', true, 'condition false'],
      ['cry', 'completed', true, undefined],
    ]);
    const sent = email(tasksOf(record).notify?.output);
    expect(sent.status).toBe('failed');
    expect(sent.failures).toEqual([
      { task: 'intentional_fail', error: expect.stringContaining('command exited with code 1') },
    ]);
    expect(stdout(tasksOf(record).cry?.output)).toBe('boohoo!\n');
    // The tasks end, the run says how it will end, the exit handlers run, then the run ends.
    const exiting = typeAt(events, 'workflow.exiting');
    expect(events[exiting]?.status).toBe('failed');
    expect(typeAt(events, 'task.failed', 'intentional_fail')).toBeLessThan(exiting);
    expect(exiting).toBeLessThan(typeAt(events, 'task.started', 'notify'));
    expect(typeAt(events, 'task.completed', 'notify')).toBeLessThan(typeAt(events, 'workflow.failed'));
    expect(events.at(-1)?.type).toBe('workflow.failed');
  });

  it("a completed run's exit handlers see completed and its duration; their failure changes nothing", async () => {
    const { record } = await stack.run({
      workflow: withTasks([{ id: 'work', type: 'exec', parameters: sh('sleep 0.3; echo worked') }], {
        on_exit: [
          ...(exampleWorkflow('exit-handlers.yaml').on_exit ?? []),
          { id: 'broken_hook', type: 'exec', parameters: sh('echo hook failed >&2; exit 3') },
        ],
      }),
    });
    expect(record.status).toBe('completed');
    expect(record.error).toBeUndefined();
    const tasks = tasksOf(record);
    const sent = email(tasks.notify?.output);
    expect(sent).toMatchObject({ status: 'completed', failures: [] });
    expect(sent.ms).toBeGreaterThanOrEqual(300);
    expect(stdout(tasks.celebrate?.output)).toBe('hooray!\n');
    expect(tasks.cry).toMatchObject({ status: 'skipped', skip_reason: 'condition false' });
    expect(tasks.broken_hook).toMatchObject({ status: 'failed', error: expect.stringContaining('exited with code 3') });
  });

  it('runs under fail-fast: the failure stops the other task, then the exit handlers run', async () => {
    const { record } = await stack.run({
      workflow: withTasks([
        { id: 'slow', type: 'exec', parameters: sh('sleep 60') },
        { id: 'fails', type: 'exec', parameters: sh('sleep 0.2; exit 1') },
        { id: 'after_slow', type: 'exec', depends_on: ['slow'], parameters: sh('echo never') },
      ]),
    });
    expect(record.status).toBe('failed');
    const tasks = tasksOf(record);
    // Stopped by fail-fast (which status fail-fast gives what it stops is not the exit handlers' business).
    expect(tasks.slow?.status).not.toBe('completed');
    expect(tasks.after_slow?.status).toBe('upstream_failed');
    expect(email(tasks.notify?.output)).toMatchObject({ status: 'failed', failures: [{ task: 'fails' }] });
    expect(tasks.cry?.status).toBe('completed');
  });

  it('runs after a cancel, with ${workflow.status} cancelled', async () => {
    const id = await stack.submit({ workflow: withTasks([{ id: 'slow', type: 'exec', parameters: sh('sleep 60') }]) });
    await stack.h.waitForEvent(id, (e) => e.type === 'task.started' && e.task === 'slow');
    const cancel = await stack.api.call('POST', `/api/v1/workflows/${id}/cancel`);
    expect(cancel.status).toBe(202);
    const { record } = await stack.follow(id);
    expect(record.status).toBe('cancelled');
    expect(email(tasksOf(record).notify?.output).status).toBe('cancelled');
    expect(tasksOf(record).slow?.status).toBe('cancelled');
  });

  it('runs after a timeout, with ${workflow.status} timed_out', async () => {
    const { record } = await stack.run({
      workflow: withTasks([{ id: 'slow', type: 'exec', parameters: sh('sleep 60') }], { timeout: '1s' }),
    });
    expect(record.status).toBe('timed_out');
    expect(email(tasksOf(record).notify?.output).status).toBe('timed_out');
  });

  it('stops exit handlers that outlast the grace period after a cancel; the run ends cancelled all the same', async () => {
    const id = await stack.submit({
      workflow: withTasks([{ id: 'slow', type: 'exec', parameters: sh('sleep 60') }], {
        on_exit: [
          { id: 'hangs', type: 'exec', parameters: sh('sleep 60') },
          { id: 'after_hangs', type: 'exec', depends_on: ['hangs'], parameters: sh('echo never') },
        ],
      }),
    });
    await stack.h.waitForEvent(id, (e) => e.type === 'task.started' && e.task === 'slow');
    await stack.api.call('POST', `/api/v1/workflows/${id}/cancel`);
    await stack.h.waitForEvent(id, (e) => e.type === 'task.started' && e.task === 'hangs');
    const hangsFrom = Date.now();
    const { record, events } = await stack.follow(id);
    expect(record.status).toBe('cancelled');
    expect(Date.now() - hangsFrom).toBeGreaterThanOrEqual(GRACE_MS - 500);
    const tasks = tasksOf(record);
    expect(tasks.hangs).toMatchObject({
      status: 'failed',
      error: "stopped: the run's exit handlers ran past their grace period (EXIT_GRACE_PERIOD)",
    });
    expect(tasks.after_hangs?.status).toBe('cancelled');
    const expired = events.find((e) => e.type === 'workflow.exit_grace_expired');
    expect(expired?.error).toBe(`exit handlers still running after their grace period of ${GRACE_MS} ms`);
  });

  it('gives a run that ends by itself the rest of its timeout, not only the grace period', async () => {
    const { record, events } = await stack.run({
      workflow: withTasks([{ id: 'quick', type: 'exec', parameters: sh('true') }], {
        on_exit: [{ id: 'slow_hook', type: 'exec', parameters: sh('sleep 2.5; echo done') }],
      }),
    });
    expect(record.status).toBe('completed');
    expect(stdout(tasksOf(record).slow_hook?.output)).toBe('done\n');
    expect(events.some((e) => e.type === 'workflow.exit_grace_expired')).toBe(false);
  });
});

describe('MAX_SUBWORKFLOW_DEPTH (Argo coinflip-recursive)', () => {
  let shallow: ArgoStack;
  beforeAll(async () => {
    shallow = await startArgoStack({ maxSubworkflowDepth: 3 });
  });
  afterAll(() => shallow?.stop());

  it('stops a recursion deeper than the limit and names the setting', async () => {
    const { record } = await shallow.run({ workflow_template: 'coinflip-recursive', variables: { tails_first: 5 } });
    expect(record.status).toBe('failed');
    expect(tasksOf(record).tails?.error).toContain(
      'sub-workflow depth limit 3 (MAX_SUBWORKFLOW_DEPTH) reached at task tails; does a template run itself?',
    );
  });
});
