// A worker of your own: two task types, `greet` (its own queue) and `slow-sum` (queue `special`).
// Run it with REDIS_URL (and QUEUE_PREFIX if your deployment sets one): node worker.js
const { defineTask, startWorker, PermanentTaskError } = require('@orchestrator/worker');

const greet = defineTask({
  name: 'greet',
  description: 'Says hello to someone',
  parameters: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: { name: { type: 'string', minLength: 1 }, excited: { type: 'boolean' } },
  },
  output: { type: 'object', required: ['greeting'], properties: { greeting: { type: 'string' } } },
  async handler({ name, excited }, ctx) {
    ctx.logger.info('greeting', { name, attempt: ctx.attempt });
    return { greeting: `Hello, ${name}${excited ? '!' : '.'}` };
  },
});

const slowSum = defineTask({
  name: 'slow-sum',
  description: 'Adds numbers, one a step, stopping at once when the run is cancelled',
  queue: 'special',
  parameters: {
    type: 'object',
    required: ['numbers'],
    properties: {
      numbers: { type: 'array', items: { type: 'number' }, maxItems: 1000 },
      step_ms: { type: 'integer', minimum: 0, maximum: 60000 },
    },
  },
  async handler({ numbers, step_ms = 0 }, ctx) {
    if (numbers.length === 0) throw new PermanentTaskError('nothing to add');
    let total = 0;
    for (const n of numbers) {
      ctx.heartbeat({ total });
      await new Promise((resolve) => setTimeout(resolve, step_ms));
      total += n;
    }
    return { total, attempt: ctx.attempt };
  },
});

startWorker({
  redis: process.env.REDIS_URL ?? 'redis://localhost:6379',
  prefix: process.env.QUEUE_PREFIX,
  name: process.env.WORKER_NAME,
  concurrency: 5,
  // Tuning knobs for tests: how fast a killed worker's job moves on, and how fast it is listed as lost.
  heartbeatMs: process.env.HEARTBEAT_MS ? Number(process.env.HEARTBEAT_MS) : undefined,
  lockDurationMs: process.env.LOCK_MS ? Number(process.env.LOCK_MS) : undefined,
  stalledIntervalMs: process.env.LOCK_MS ? Number(process.env.LOCK_MS) : undefined,
  tasks: [greet, slowSum],
}).then(
  (worker) => {
    const stop = () => worker.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
