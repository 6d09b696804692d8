import type { TemplateDefinition } from '@orch/core';
import { RECHECK_MS } from './control-context';
import { byId, type Harness, probe, startHarness, wf } from './testing';

jest.setTimeout(60_000);

const loop: TemplateDefinition = {
  id: 'loop',
  name: 'Runs itself',
  workflow: { id: 'loop', tasks: [{ id: 'again', type: 'workflow', parameters: { template: 'loop' } }] },
};
const child: TemplateDefinition = {
  id: 'child',
  name: 'Child',
  variables: [{ name: 'n', type: 'integer', required: true }],
  workflow: {
    id: 'child',
    tasks: [
      { id: 'double', type: 'transform', parameters: { output: '${n * 2}' } },
      { id: 'plus', type: 'transform', depends_on: ['double'], parameters: { output: '${double.output + 1}' } },
    ],
  },
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ maxSubworkflowDepth: 5 });
  await h.startWorker({ concurrency: 10, templates: { loop, child } });
});
afterAll(() => h.stop());
beforeEach(() => {
  h.calls.length = 0;
});

describe('workflow tasks (sub-workflows)', () => {
  it('runs a template as a child run and passes its outputs up', async () => {
    const record = await h.run(
      wf([
        { id: 'sub', type: 'workflow', parameters: { template: 'child', variables: { n: 20 } } },
        { id: 'after', type: 'transform', depends_on: ['sub'], parameters: { output: '${sub.output.outputs.plus}' } },
      ]),
    );
    expect(record.status).toBe('completed');
    const sub = byId(record).sub?.output as { execution_id: string; outputs: Record<string, unknown> };
    expect(sub.outputs).toEqual({ double: 40, plus: 41 });
    expect(byId(record).after?.output).toBe(41);
    const childRecord = await h.engine.get(sub.execution_id);
    expect(childRecord.status).toBe('completed');
    expect((await h.engine.meta(sub.execution_id)).parent_execution_id).toBe(record.execution_id);
  });

  it('fails the task when the child fails', async () => {
    const record = await h.run(
      wf([{ id: 'sub', type: 'workflow', parameters: { workflow: wf([probe('bad', [], { permanent: true })]) } }]),
    );
    expect(record.status).toBe('failed');
    expect(byId(record).sub?.error).toMatch(/^sub-workflow [0-9a-f-]+ failed: task bad failed: task bad refuses$/);
  });

  it('cancels the child when the parent is cancelled', async () => {
    const id = await h.submit(
      wf([{ id: 'sub', type: 'workflow', parameters: { workflow: wf([probe('slow', [], { sleep_ms: 10_000 })]) } }]),
    );
    await h.started('slow');
    await h.engine.cancel(id);
    const record = await h.waitForEnd(id);
    expect(record.status).toBe('cancelled');
    const childId = (await h.connection.hget(h.ctx.keys.tasks(id), '@child:sub')) as string;
    expect((await h.waitForEnd(childId)).status).toBe('cancelled');
    expect(h.calls.find((c) => c.task === 'slow')?.outcome).toBe('aborted');
  });

  it('stops runaway recursion at the depth limit with a clear error', async () => {
    const record = await h.run(wf([{ id: 'start', type: 'workflow', parameters: { template: 'loop' } }]));
    expect(record.status).toBe('failed');
    // The innermost run fails on the limit; each parent fails with its child's error.
    expect(byId(record).start?.error).toContain(
      'sub-workflow depth limit 5 (MAX_SUBWORKFLOW_DEPTH) reached at task again; does a template run itself?',
    );
  });

  it("finishes the parent when the child's wake is lost (a crash, a race with the park, an unreplicated write)", async () => {
    const queues = h.ctx.queues;
    const wake = queues.wake.bind(queues);
    let dropped = 0;
    // Every wake a child's end sends is lost: only the parent's own re-check can see the child has ended.
    queues.wake = async () => {
      dropped++;
    };
    try {
      const started = Date.now();
      const record = await h.run(
        wf([{ id: 'sub', type: 'workflow', parameters: { workflow: wf([probe('quick', [], { sleep_ms: 300 })]) } }]),
        {},
        20_000,
      );
      expect(record.status).toBe('completed');
      expect(dropped).toBe(1);
      expect(Date.now() - started).toBeLessThan(RECHECK_MS + 5_000);
    } finally {
      queues.wake = wake;
    }
  });
});
