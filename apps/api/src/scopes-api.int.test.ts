import { waitUntil } from '@orch/testing';
import { ROUTES } from './routes';
import { type Harness, probe, startApi, startHarness, type TestApi, wf } from './testing';

jest.setTimeout(60_000);

/** One key per scope set, plus a plain key (admin, named by position) as before scopes existed. */
const KEYS = {
  reader: 'reader-key-0001',
  runner: 'runner-key-0002',
  both: 'both-key-0003',
  ops: 'ops-key-0004',
};
const ENV_KEYS = `reader:${KEYS.reader}:read, runner:${KEYS.runner}:run, both:${KEYS.both}:read+run, ops:${KEYS.ops}:admin, plain-legacy-key`;

let h: Harness;
let api: TestApi;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 10 });
  api = await startApi(h, { ORCHESTRATOR_API_KEYS: ENV_KEYS });
});
afterAll(async () => {
  await api?.service.close();
  await h?.stop();
});

const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
const call = (key: string, method: string, path: string, body?: unknown) =>
  api.call(method, path, { ...as(key), ...(body === undefined ? {} : { body }) });

describe('scoped API keys', () => {
  it('enforces the route table scope on every route, for every key (403 exactly when the scope is missing)', async () => {
    const granted: Record<string, string[]> = {
      reader: ['read'],
      runner: ['run'],
      both: ['read', 'run'],
      ops: ['read', 'run', 'admin'],
    };
    for (const route of ROUTES.filter((r) => r.scope !== 'none')) {
      const path = route.path.replace(/:[a-z]+/g, 'nope');
      for (const [name, scopes] of Object.entries(granted)) {
        const answer = await call(KEYS[name as keyof typeof KEYS], route.method.toUpperCase(), path);
        const allowed = scopes.includes(route.scope);
        expect([route.operationId, name, answer.status === 403]).toEqual([route.operationId, name, !allowed]);
        if (!allowed) {
          expect(answer.body.error).toEqual({
            code: 'FORBIDDEN',
            message: `this route needs the '${route.scope}' scope; the key '${name}' has ${scopes.map((s) => `'${s}'`).join(', ')}`,
            details: [],
          });
        }
      }
    }
  });

  it('needs read for the pages outside the route table: docs, Bull Board, the web view data', async () => {
    for (const path of ['/docs', '/admin/queues', '/admin/queues/api/queues', '/ui/api/runs/nope/graph']) {
      expect([path, (await call(KEYS.runner, 'GET', path)).status]).toEqual([path, 403]);
      expect([path, (await call(KEYS.reader, 'GET', path)).status]).toEqual([path, path.startsWith('/ui') ? 404 : 200]);
    }
  });

  it('gives the scopes the issue lists: read to GETs and streams, run to submit and control, admin to schedules', () => {
    const scopeOf = (operationId: string) => ROUTES.find((r) => r.operationId === operationId)?.scope;
    const read = ['listWorkflows', 'getWorkflow', 'getWorkflowStatus', 'streamWorkflowEvents', 'listTemplates'];
    const run = ['submitWorkflow', 'cancelWorkflow', 'retryWorkflow', 'pauseWorkflow', 'resumeWorkflow'];
    const admin = ['createSchedule', 'deleteSchedule', 'pauseSchedule', 'resumeSchedule'];
    expect(read.map(scopeOf)).toEqual(read.map(() => 'read'));
    expect([...run, 'approveTask', 'rejectTask'].map(scopeOf)).toEqual([...run, 1, 2].map(() => 'run'));
    expect(admin.map(scopeOf)).toEqual(admin.map(() => 'admin'));
    expect(ROUTES.find((r) => r.operationId === 'generateWorkflow')?.bodyScopes).toEqual({ save_as: 'admin' });
  });

  it('needs admin for save_as, naming the scope, before any model is called', async () => {
    const answer = await call(KEYS.both, 'POST', '/api/v1/generate', { prompt: 'x', save_as: 'data-analysis-basic' });
    expect(answer.status).toBe(403);
    expect(answer.body.error.message).toBe("`save_as` needs the 'admin' scope; the key 'both' has 'read', 'run'");
  });

  it('records which key submitted a run, and which retried it; a plain key is named by its position', async () => {
    const failing = wf([probe('a', [], { permanent: true })]);
    const submitted = await call(KEYS.both, 'POST', '/api/v1/workflows', { workflow: failing });
    expect(submitted.status).toBe(202);
    const id = submitted.body.execution_id as string;
    expect((await h.waitForEnd(id)).submitted_by).toBe('both');
    expect((await call(KEYS.reader, 'GET', `/api/v1/workflows/${id}`)).body.submitted_by).toBe('both');
    const retried = await call('plain-legacy-key', 'POST', `/api/v1/workflows/${id}/retry`);
    expect(retried.status).toBe(202);
    expect((await h.waitForEnd(retried.body.execution_id)).submitted_by).toBe('key-5');
  });

  describe('approvals', () => {
    const gated = wf([
      { id: 'review', type: 'approval', parameters: { approvers: ['ops'] } },
      { id: 'after', type: 'transform', depends_on: ['review'], parameters: { output: '${review.output.by}' } },
    ]);

    it('are decided only by a listed key, under its own name, and the record says who decided', async () => {
      const id = (await call(KEYS.both, 'POST', '/api/v1/workflows', { workflow: gated })).body.execution_id as string;
      await h.delayed(`${id}.review`);
      const notListed = await call(KEYS.both, 'POST', `/api/v1/workflows/${id}/tasks/review/approve`);
      expect(notListed.status).toBe(403);
      expect(notListed.body.error.message).toBe('task review may be decided only by ops; not by both');
      const impersonating = await call(KEYS.both, 'POST', `/api/v1/workflows/${id}/tasks/review/approve`, {
        by: 'ops',
      });
      expect(impersonating.status).toBe(403);
      expect(impersonating.body.error.message).toBe(
        "decisions are recorded under the calling key's name ('both'); by: 'ops' cannot be claimed with it",
      );
      const approved = await call(KEYS.ops, 'POST', `/api/v1/workflows/${id}/tasks/review/approve`);
      expect(approved).toMatchObject({ status: 200, body: { decision: 'approve', by: 'ops' } });
      const record = await h.waitForEnd(id);
      expect(record.tasks.map((t) => [t.id, t.status, (t.output as { by?: string })?.by ?? t.output])).toEqual([
        ['review', 'completed', 'ops'],
        ['after', 'completed', 'ops'],
      ]);
      const events = await h.connection.xrange(h.ctx.keys.events(id), '-', '+');
      const approval = events.map(([, fields]) => fields).find((f) => f.includes('task.approved'));
      expect(approval?.slice(approval.indexOf('by'))).toEqual(['by', 'ops']);
    });
  });

  describe('Bull Board', () => {
    const board = '/admin/queues/api/queues';

    it('is read-only for keys without admin: no write buttons, and writes answer 403 naming the scope', async () => {
      const read = await call(KEYS.both, 'GET', board);
      expect(read.status).toBe(200);
      expect(read.body.queues.map((q: { readOnlyMode: boolean }) => q.readOnlyMode)).toEqual([true, true, true]);
      for (const [method, path] of [
        ['PUT', `${board}/tasks/pause`],
        ['PUT', `${board}/tasks/some-job/retry`],
        ['PUT', `${board}/tasks/clean/completed`],
        ['PATCH', `${board}/tasks/some-job/update-data`],
      ] as const) {
        const answer = await call(KEYS.both, method, path, {});
        expect([path, answer.status]).toEqual([path, 403]);
        expect(answer.body.error.message).toBe(
          "a Bull Board write action needs the 'admin' scope; the key 'both' has 'read', 'run'",
        );
      }
      const admin = await call(KEYS.ops, 'GET', board);
      expect(admin.body.queues.map((q: { readOnlyMode: boolean }) => q.readOnlyMode)).toEqual([false, false, false]);
    });

    it("refuses admin actions that would corrupt a live run, and allows deleting a finished run's job", async () => {
      const gated = wf([{ id: 'review', type: 'approval' }]);
      const live = (await call(KEYS.ops, 'POST', '/api/v1/workflows', { workflow: gated })).body.execution_id;
      await h.delayed(`${live}.review`);
      const refused = async (method: string, path: string, reason: RegExp) => {
        const answer = await call(KEYS.ops, method, `${board}${path}`, {});
        expect([path, answer.status]).toEqual([path, 409]);
        expect(answer.body.error.message).toMatch(reason);
      };
      await refused(
        'PUT',
        `/tasks/${live}.review/retry?queueStatus=delayed`,
        /retry the run with POST \/api\/v1\/workflows\/.+\/retry/,
      );
      await refused(
        'PUT',
        `/tasks/${live}.review/clean?queueStatus=delayed`,
        new RegExp(`belongs to run ${live}, which is running`),
      );
      await refused('PATCH', `/tasks/${live}.review/update-data`, /editing a job's data/);
      await refused('PUT', `/tasks/${live}.review/promote`, /wakes a parked task/);
      await refused('PUT', `/workflows/${live}/clean?queueStatus=waiting-children`, /which is running/);
      await refused('PUT', '/tasks/clean/completed', /deletes jobs of live runs/);
      await refused('PUT', '/tasks/empty', /deletes jobs of live runs/);
      await refused('POST', '/tasks/add', /not part of any run/);
      // Spelled as Express would still route it to bull-board: another case, a trailing slash.
      await refused('PUT', `/tasks/${live}.review/RETRY/`, /retry the run with POST/);
      await refused('PUT', `/tasks/${live}.review/Clean/?queueStatus=delayed`, /which is running/);
      // The run never noticed: still waiting for its decision.
      expect((await call(KEYS.ops, 'GET', `/api/v1/workflows/${live}/status`)).body.tasks[0].status).toBe('running');
      // Queue-level switches stay with the operator.
      expect((await call(KEYS.ops, 'PUT', `${board}/control/pause`, {})).status).toBe(200);
      expect((await call(KEYS.ops, 'PUT', `${board}/control/resume`, {})).status).toBe(200);
      // A finished run's job may go.
      const done = await h.run(wf([probe('a')]));
      // The run ends as its task is recorded; its task job completes a moment later.
      const job = await h.ctx.queues.tasks.getJob(`${done.execution_id}.a`);
      await waitUntil(async () => (await job?.getState()) === 'completed', 10_000, 'the task job to complete');
      const clean = await call(
        KEYS.ops,
        'PUT',
        `${board}/tasks/${done.execution_id}.a/clean?queueStatus=completed`,
        {},
      );
      expect(clean.status).toBe(204);
      expect(await h.ctx.queues.tasks.getJob(`${done.execution_id}.a`)).toBeUndefined();
      await call(KEYS.ops, 'POST', `/api/v1/workflows/${live}/cancel`);
    });
  });
});
