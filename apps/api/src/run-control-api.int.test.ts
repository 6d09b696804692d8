import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Harness, probe, ROOT, startApi, startHarness, type TestApi, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
let api: TestApi;
let templatesDir: string;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 10 });
  // A copy of the catalog with a second version of a template.
  templatesDir = mkdtempSync(join(tmpdir(), 'orch-api-tpl-'));
  cpSync(join(ROOT, 'templates'), templatesDir, { recursive: true });
  const greet = (version: string, word: string) =>
    `id: greet\nname: Greet\nversion: "${version}"\nworkflow:\n  id: greet\n  tasks:\n    - {id: say, type: transform, parameters: {output: "${word}"}}\n`;
  writeFileSync(join(templatesDir, 'greet-1.yaml'), greet('1.0', 'hello'));
  writeFileSync(join(templatesDir, 'greet-2.yaml'), greet('2.0', 'hi'));
  api = await startApi(h, { ORCHESTRATOR_TEMPLATES: templatesDir });
});
afterAll(async () => {
  await api?.service.close();
  await h?.stop();
});

const submit = async (body: unknown) =>
  (await api.call('POST', '/api/v1/workflows', { body })).body.execution_id as string;

describe('pause and resume over HTTP', () => {
  it('pauses, holds the next task, resumes, completes', async () => {
    const id = await submit({ workflow: wf([probe('first', [], { sleep_ms: 300 }), probe('second', ['first'])]) });
    await h.started('first');
    const paused = await api.call('POST', `/api/v1/workflows/${id}/pause`);
    expect(paused).toMatchObject({ status: 200, body: { execution_id: id, status: 'paused' } });
    await h.waitForEvent(id, (e) => e.type === 'task.completed' && e.task === 'first');
    const status = await api.call('GET', `/api/v1/workflows/${id}/status`);
    expect(status.body.status).toBe('paused');
    expect((await api.call('POST', `/api/v1/workflows/${id}/pause`)).body.status).toBe('paused');
    expect(await api.call('POST', `/api/v1/workflows/${id}/resume`)).toMatchObject({
      status: 200,
      body: { status: 'running' },
    });
    expect((await h.waitForEnd(id)).status).toBe('completed');
    const again = await api.call('POST', `/api/v1/workflows/${id}/resume`);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toBe(`execution ${id} is completed; only a paused run can be resumed`);
  });

  it('answers 404 for an unknown run', async () => {
    expect((await api.call('POST', '/api/v1/workflows/nope/pause')).status).toBe(404);
  });
});

describe('approval over HTTP', () => {
  const gated = wf([
    { id: 'review', type: 'approval', parameters: { message: 'Deploy?', approvers: ['ops'] } },
    {
      id: 'deploy',
      type: 'transform',
      depends_on: ['review'],
      parameters: { output: '${review.output.payload.ticket}' },
    },
  ]);

  it('shows the waiting task, approves it with a payload, and the run continues', async () => {
    const id = await submit({ workflow: gated });
    await h.delayed(`${id}.review`);
    const status = await api.call('GET', `/api/v1/workflows/${id}/status`);
    expect(status.body.tasks.find((t: { id: string }) => t.id === 'review')).toMatchObject({
      status: 'running',
      waiting_for: { kind: 'approval', message: 'Deploy?', approvers: ['ops'] },
    });
    const approved = await api.call('POST', `/api/v1/workflows/${id}/tasks/review/approve`, {
      body: { payload: { ticket: 'OPS-1' }, by: 'ops' },
    });
    expect(approved).toMatchObject({
      status: 200,
      body: { execution_id: id, task: 'review', decision: 'approve', by: 'ops' },
    });
    const record = await h.waitForEnd(id);
    expect(record.tasks.find((t) => t.id === 'deploy')?.output).toBe('OPS-1');
  });

  it('refuses a decision by someone not among approvers (the approvers attack of issue #15)', async () => {
    const id = await submit({ workflow: gated });
    for (const body of [{}, { by: 'mallory' }]) {
      const refused = await api.call('POST', `/api/v1/workflows/${id}/tasks/review/approve`, { body });
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toMatch(/^task review may be decided only by ops; /);
    }
    expect((await api.call('GET', `/api/v1/workflows/${id}/status`)).body.tasks[0].status).toBe('running');
    await api.call('POST', `/api/v1/workflows/${id}/cancel`);
  });

  it('rejects with a reason; a second decision is a 409', async () => {
    const id = await submit({ workflow: gated });
    const rejected = await api.call('POST', `/api/v1/workflows/${id}/tasks/review/reject`, {
      body: { reason: 'freeze', by: 'ops' },
    });
    expect(rejected.status).toBe(200);
    const second = await api.call('POST', `/api/v1/workflows/${id}/tasks/review/approve`, { body: { by: 'ops' } });
    expect(second.status).toBe(409);
    const record = await h.waitForEnd(id);
    expect(record.status).toBe('failed');
    expect(record.tasks.find((t) => t.id === 'review')?.error).toBe('rejected by ops: freeze');
  });

  it('answers 404 for an unknown task and 400 for a bad body', async () => {
    const id = await submit({ workflow: gated });
    expect((await api.call('POST', `/api/v1/workflows/${id}/tasks/ghost/approve`)).status).toBe(404);
    const bad = await api.call('POST', `/api/v1/workflows/${id}/tasks/review/approve`, { body: { by: 42 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([{ pointer: '/by', message: 'must be string' }]);
    await api.call('POST', `/api/v1/workflows/${id}/cancel`);
  });
});

describe('template versions', () => {
  it('lists versions newest first, runs the newest by default and a pinned one on request', async () => {
    const versions = await api.call('GET', '/api/v1/templates/greet/versions');
    expect(versions.status).toBe(200);
    expect(versions.body.versions.map((v: { version: string }) => v.version)).toEqual(['2.0', '1.0']);
    const newest = await h.waitForEnd(await submit({ workflow_template: 'greet' }));
    const pinned = await h.waitForEnd(await submit({ workflow_template: 'greet@1.0' }));
    expect([newest.template, newest.tasks[0]?.output]).toEqual([{ id: 'greet', version: '2.0' }, 'hi']);
    expect([pinned.template, pinned.tasks[0]?.output]).toEqual([{ id: 'greet', version: '1.0' }, 'hello']);
    const missing = await api.call('POST', '/api/v1/workflows', { body: { workflow_template: 'greet@9.9' } });
    expect(missing.status).toBe(400);
    expect((await api.call('GET', '/api/v1/templates/nope/versions')).status).toBe(404);
  });
});
