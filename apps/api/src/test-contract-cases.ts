/**
 * The contract test's requests, by operationId: every operation of the document needs an entry, or the test fails
 * naming it. The first case of an operation is its usual request: the test also sends it without a key, with a key
 * lacking the scope, too slowly (408), with oversized headers (431), with bad bodies (400, 413, 415) where it takes
 * one, and with Redis stopped (503, or `redisDown`). Each answer is checked against the document
 * (test-contract-validator.ts); `status` is what the case must answer.
 */

/** The keys of ORCHESTRATOR_API_KEYS in the test, by name. */
export const CONTRACT_KEYS = {
  admin: 'contract-admin-key',
  reader: 'contract-reader-key',
  runner: 'contract-runner-key',
  operator: 'contract-operator-key',
} as const;
export type KeyName = keyof typeof CONTRACT_KEYS;
export const CONTRACT_KEY_SCOPES: Record<KeyName, string> = {
  admin: 'admin',
  reader: 'read',
  runner: 'run',
  operator: 'read+run',
};

/** Runs and ids the test sets up before any case, in the states the cases need. */
/** The correlation id of the `done` fixture. */
export const DONE_CORRELATION_ID = 'contract-done';

export interface Fixtures {
  /** Completed (its correlation id is DONE_CORRELATION_ID). */
  done: string;
  /** Failed (a task failed for good): retry starts a new run. */
  failed: string;
  /** Running a long task: paused and resumed by the cases. */
  running: string;
  /** Running a long task: cancelled (202) by a case. */
  stopping: string;
  /** Waiting for a slot (MAX_CONCURRENT_WORKFLOWS are running): cancelled (200) by a case. */
  pending: string;
  /** Waiting on the approval tasks `sign_off` and `veto`; `note` is a transform task. */
  approval: string;
  /** The last event of `done`. */
  lastEventId: string;
}

export interface ContractCase {
  name: string;
  params?: (f: Fixtures) => Record<string, string>;
  query?: Record<string, string>;
  body?: (f: Fixtures) => unknown;
  headers?: Record<string, string>;
  /** Default `admin`. */
  key?: KeyName;
  /**
   * The second API instead of the usual one: no model endpoint, and backpressure at 1 waiting run with no hold (the
   * `pending` fixture is one), so its submits get 429.
   */
  unconfigured?: boolean;
  status: number;
  /** What the first case answers with Redis stopped, when not 503 (routes that need no Redis answer as usual). */
  redisDown?: number;
}

const transform = (id: string) => ({ id, type: 'transform', parameters: { output: id } });
export const inlineWorkflow = (id: string) => ({
  id,
  tasks: [transform('a'), { ...transform('b'), depends_on: ['a'] }],
});
const run = (f: Fixtures, key: keyof Fixtures) => ({ id: f[key] });
const nope = () => ({ id: 'no-such-run' });
const task = (name: string) => (f: Fixtures) => ({ id: f.approval, task: name });
const schedule = (id: string) => () => ({ id });
const template = () => ({ id: 'data-analysis-basic' });

/** Prompts the model stand-in answers in a scripted way (see the contract test's responder). */
export const PROMPTS = {
  valid: 'Summarise the graph',
  invalid: 'invalid workflow please',
  upstream: 'upstream fails',
  hang: 'hang up',
};

export const CASES: Record<string, ContractCase[]> = {
  submitWorkflow: [
    {
      name: 'an inline workflow',
      body: () => ({ workflow: inlineWorkflow('contract'), correlation_id: 'contract-1' }),
      status: 202,
    },
    {
      name: 'the same correlation id',
      body: () => ({ workflow: inlineWorkflow('contract'), correlation_id: 'contract-1' }),
      status: 200,
    },
    {
      name: 'the same correlation id with another body',
      body: () => ({ workflow: inlineWorkflow('other'), correlation_id: 'contract-1' }),
      status: 409,
    },
    {
      name: 'a correlation id with a control character',
      body: () => ({ workflow: inlineWorkflow('contract'), correlation_id: 'bell\u0007' }),
      status: 400,
    },
    {
      name: 'the README example',
      body: () => ({
        workflow_template: 'data-analysis-basic',
        variables: { query_limit: 50, analysis_prompt: 'Identify key trends in the data' },
      }),
      status: 202,
    },
    {
      // Every slot is taken by the fixtures, so a new run would wait for one: this waits for the finished `done`.
      name: 'submit and wait, with the correlation id of a run that has ended',
      query: { wait: '20s' },
      body: () => ({ workflow: inlineWorkflow('done'), correlation_id: DONE_CORRELATION_ID }),
      status: 200,
    },
    {
      name: 'a wait that is not a duration',
      query: { wait: 'soon' },
      body: () => ({ workflow: inlineWorkflow('x') }),
      status: 400,
    },
    {
      name: 'while the workers are behind (backpressure)',
      unconfigured: true,
      body: () => ({ workflow: inlineWorkflow('contract-crowded') }),
      status: 429,
    },
    { name: 'neither template nor workflow', body: () => ({ variables: {} }), status: 400 },
    {
      name: 'variables that do not fit',
      body: () => ({ workflow_template: 'data-analysis-basic', variables: { query_limit: 'many' } }),
      status: 400,
    },
    { name: 'an unknown template', body: () => ({ workflow_template: 'no-such-template' }), status: 400 },
  ],
  listWorkflows: [
    { name: 'the first page', status: 200 },
    { name: 'filtered, one per page', query: { status: 'completed', limit: '1' }, status: 200 },
    { name: 'limit 0', query: { limit: '0' }, status: 400 },
    { name: 'limit not a number', query: { limit: 'many' }, status: 400 },
    { name: 'an unknown status', query: { status: 'asleep' }, status: 400 },
  ],
  getWorkflow: [
    { name: 'a completed run', params: (f) => run(f, 'done'), status: 200 },
    { name: 'a run waiting on approvals', params: (f) => run(f, 'approval'), status: 200 },
    { name: 'a failed run', params: (f) => run(f, 'failed'), status: 200 },
    { name: 'an unknown id', params: nope, status: 404 },
  ],
  getWorkflowStatus: [
    { name: 'a completed run', params: (f) => run(f, 'done'), status: 200 },
    { name: 'a run waiting on approvals', params: (f) => run(f, 'approval'), status: 200 },
    { name: 'a pending run', params: (f) => run(f, 'pending'), status: 200 },
    { name: 'an unknown id', params: nope, status: 404 },
  ],
  streamWorkflowEvents: [
    { name: 'every event of a completed run', params: (f) => run(f, 'done'), status: 200 },
    { name: 'every event of a failed run', params: (f) => run(f, 'failed'), status: 200 },
    { name: 'after its final event', params: (f) => run(f, 'done'), status: 204, headers: { 'last-event-id': 'LAST' } },
    {
      name: 'a Last-Event-ID that is no id',
      params: (f) => run(f, 'done'),
      headers: { 'last-event-id': 'x' },
      status: 400,
    },
    { name: 'an unknown id', params: nope, status: 404 },
  ],
  getTaskLogs: [
    { name: "a failed task's log", params: (f) => ({ id: f.failed, task: 'boom' }), status: 200 },
    { name: 'one line a page', params: (f) => ({ id: f.failed, task: 'boom' }), query: { limit: '1' }, status: 200 },
    {
      name: 'followed to its end',
      params: (f) => ({ id: f.failed, task: 'boom' }),
      query: { follow: 'true' },
      status: 200,
    },
    {
      name: 'followed after its last line',
      params: (f) => ({ id: f.done, task: 'b' }),
      query: { follow: 'true' },
      headers: { 'last-event-id': '1-0' },
      status: 204,
    },
    {
      name: 'a Last-Event-ID that is no line id',
      params: (f) => ({ id: f.failed, task: 'boom' }),
      query: { follow: 'true' },
      headers: { 'last-event-id': 'x' },
      status: 400,
    },
    { name: 'attempt 0', params: (f) => ({ id: f.failed, task: 'boom' }), query: { attempt: '0' }, status: 400 },
    { name: 'an unknown task', params: (f) => ({ id: f.failed, task: 'nope' }), status: 404 },
    { name: 'an unknown id', params: () => ({ id: 'no-such-run', task: 'a' }), status: 404 },
  ],
  cancelWorkflow: [
    { name: 'a pending run', params: (f) => run(f, 'pending'), status: 200 },
    { name: 'a running run', params: (f) => run(f, 'stopping'), status: 202 },
    { name: 'a run that ended', params: (f) => run(f, 'done'), status: 409 },
    { name: 'an unknown id', params: nope, status: 404 },
  ],
  retryWorkflow: [
    { name: 'a failed run', params: (f) => run(f, 'failed'), status: 202 },
    { name: 'a run whose every task completed', params: (f) => run(f, 'done'), status: 409 },
    { name: 'an unknown id', params: nope, status: 404 },
  ],
  pauseWorkflow: [
    { name: 'a running run', params: (f) => run(f, 'running'), status: 200 },
    { name: 'a paused run, again', params: (f) => run(f, 'running'), status: 200 },
    { name: 'a run that ended', params: (f) => run(f, 'done'), status: 409 },
    { name: 'an unknown id', params: nope, status: 404 },
  ],
  resumeWorkflow: [
    { name: 'a paused run', params: (f) => run(f, 'running'), status: 200 },
    { name: 'a running run', params: (f) => run(f, 'running'), status: 409 },
    { name: 'an unknown id', params: nope, status: 404 },
  ],
  approveTask: [
    { name: 'an approval task', params: task('sign_off'), body: () => ({ payload: { ticket: 'OPS-1' } }), status: 200 },
    { name: 'the same task again', params: task('sign_off'), body: () => ({}), status: 409 },
    { name: 'a task that is no approval', params: task('note'), status: 409 },
    { name: 'an unknown task', params: task('nothing'), status: 404 },
    { name: 'an unknown field', params: task('veto'), body: () => ({ ticket: 1 }), status: 400 },
    { name: 'by another key', params: task('veto'), body: () => ({ by: 'someone-else' }), status: 403 },
  ],
  rejectTask: [
    { name: 'an approval task', params: task('veto'), body: () => ({ reason: 'change freeze' }), status: 200 },
    { name: 'the same task again', params: task('veto'), status: 409 },
    { name: 'an unknown run', params: () => ({ id: 'no-such-run', task: 'veto' }), status: 404 },
  ],
  listTemplates: [{ name: 'the catalog', status: 200, redisDown: 200 }],
  getTemplate: [
    { name: 'a template', params: template, status: 200, redisDown: 200 },
    { name: 'an unknown template', params: () => ({ id: 'no-such-template' }), status: 404 },
  ],
  listTemplateVersions: [
    { name: 'a template', params: template, status: 200, redisDown: 200 },
    { name: 'an unknown template', params: () => ({ id: 'no-such-template' }), status: 404 },
  ],
  validateWorkflow: [
    { name: 'a valid workflow', body: () => ({ workflow: inlineWorkflow('check') }), status: 200, redisDown: 200 },
    { name: 'an invalid workflow', body: () => ({ workflow: { id: 'w', tasks: [] } }), status: 200 },
    {
      name: 'variables that do not fit',
      body: () => ({ workflow_template: 'data-analysis-basic', variables: { query_limit: 'x' } }),
      status: 200,
    },
    { name: 'two documents', body: () => ({ workflow_template: 'a', workflow: inlineWorkflow('w') }), status: 400 },
  ],
  generateWorkflow: [
    {
      name: 'a valid workflow, simulated',
      body: () => ({ prompt: PROMPTS.valid, dry_run: true }),
      status: 200,
      redisDown: 200,
    },
    { name: 'no valid candidate', body: () => ({ prompt: PROMPTS.invalid }), status: 200 },
    { name: 'started', body: () => ({ prompt: PROMPTS.valid, execute: true }), status: 202 },
    {
      name: 'save_as an existing template',
      body: () => ({ prompt: PROMPTS.valid, save_as: 'data-analysis-basic' }),
      status: 409,
    },
    {
      name: 'save_as with a run key',
      key: 'operator',
      body: () => ({ prompt: PROMPTS.valid, save_as: 'mine' }),
      status: 403,
    },
    { name: 'a prompt too long', body: () => ({ prompt: 'x'.repeat(8001) }), status: 413 },
    { name: 'the model endpoint fails', body: () => ({ prompt: PROMPTS.upstream }), status: 502 },
    { name: 'the model does not answer', body: () => ({ prompt: PROMPTS.hang }), status: 504 },
    { name: 'no model endpoint', unconfigured: true, body: () => ({ prompt: PROMPTS.valid }), status: 503 },
    { name: 'an unknown complexity', body: () => ({ prompt: PROMPTS.valid, complexity: 'extreme' }), status: 400 },
  ],
  createSchedule: [
    {
      name: 'a schedule',
      body: () => ({ id: 'contract-a', cron: '0 3 * * *', timezone: 'UTC', workflow_template: 'data-analysis-basic' }),
      status: 201,
    },
    {
      name: 'another',
      body: () => ({ id: 'contract-b', cron: '0 4 * * *', workflow: inlineWorkflow('nightly') }),
      status: 201,
    },
    {
      name: 'a cron pattern that is none',
      body: () => ({ id: 'bad', cron: 'often', workflow_template: 'data-analysis-basic' }),
      status: 400,
    },
    { name: 'no workflow', body: () => ({ id: 'bad', cron: '0 3 * * *' }), status: 400 },
  ],
  listSchedules: [{ name: 'every schedule', status: 200 }],
  getSchedule: [
    { name: 'a schedule', params: schedule('contract-a'), status: 200 },
    { name: 'an unknown schedule', params: schedule('nope'), status: 404 },
  ],
  deleteSchedule: [
    { name: 'a schedule', params: schedule('contract-b'), status: 204 },
    { name: 'it again', params: schedule('contract-b'), status: 404 },
  ],
  pauseSchedule: [
    { name: 'a schedule', params: schedule('contract-a'), status: 200 },
    { name: 'an unknown schedule', params: schedule('nope'), status: 404 },
  ],
  resumeSchedule: [
    { name: 'a schedule', params: schedule('contract-a'), status: 200 },
    { name: 'an unknown schedule', params: schedule('nope'), status: 404 },
  ],
  getOpenApi: [{ name: 'the document', status: 200, redisDown: 200 }],
  health: [{ name: 'a probe', status: 200 }],
  serviceStatus: [{ name: 'the status', status: 200 }],
  listWorkers: [{ name: 'the workers', status: 200 }],
  metrics: [{ name: 'a scrape', status: 200, redisDown: 200 }],
};

/**
 * Documented answers no case produces, each with the reason; the test fails on any other that none produced, so
 * the document lists only what the API can answer.
 */
export const UNEXERCISED: Record<string, string> = {};
