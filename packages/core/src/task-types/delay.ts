import { DURATION_HINT, parseDuration, tryParseDuration } from '../duration';
import { durationSchema } from './schema-parts';
import { defineTaskType, simulatedParameters } from './task-type';

const schema = { type: 'object', required: ['duration'], properties: { duration: durationSchema } } as const;

/** A delay parks its job as a BullMQ delayed job until `until`; no worker waits. Its next run completes it. */
export const delay = defineTaskType<'delay', typeof schema, 'control', { until: number; attempt: number }>({
  name: 'delay',
  kind: 'control',
  description: 'Wait `parameters.duration` without holding a worker (a delayed job).',
  schema,
  run: {
    kind: 'control',
    async run({ parameters }, job, context) {
      const ms = parseDuration(parameters.duration, 'delay duration');
      // Each attempt waits the whole duration (a retry after a timeout, say).
      if (job.state.until === undefined || (job.state.attempt ?? 1) !== context.attempt) {
        const until = Date.now() + ms;
        await job.save({ until, attempt: context.attempt });
        return job.sleepUntil(until);
      }
      // Promoted early (by a dashboard, say) while the run goes on: wait out the rest.
      if (Date.now() < job.state.until) return job.sleepUntil(job.state.until);
      return { delayed_ms: ms };
    },
  },
  simulate(task, at, sim) {
    const { duration } = simulatedParameters(task, at, sim);
    if (duration !== undefined && tryParseDuration(duration) === undefined) {
      sim.report(
        `${at}/parameters/duration`,
        `must be ${DURATION_HINT}; got ${JSON.stringify(duration) ?? String(duration)}`,
      );
    }
    return {};
  },
});
