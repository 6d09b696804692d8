import type { BenchCase, BenchContext, CaseResult, Row } from './bench-case';
import { fmt, summaryJson } from './bench-case';
import { RANDOM_SEED } from './case-throughput';
import { cpuMeter } from './cpu';
import { type BenchChild, startOrchWorkers } from './processes';
import { sampleRss } from './rss-sampler';
import { type BenchWorkflow, describeShape, randomDag, wide } from './shapes';
import { summarize } from './stats';
import { Submitter } from './submitter';

const BIG = 10_000;
const MANY = 1000;
const MANY_SIZE = 10;

async function timeOne(submitter: Submitter, workflow: BenchWorkflow): Promise<{ ms: number; submitMs: number }> {
  const r = await submitter.run(workflow);
  if (r.status !== 'completed') throw new Error(`${workflow.id} ended ${r.status}`);
  const record = await submitter.engine.get(r.id);
  if (record.progress.completed !== workflow.tasks.length) {
    throw new Error(`${workflow.id}: ${record.progress.completed} of ${workflow.tasks.length} tasks completed`);
  }
  return r;
}

/** All MANY runs are submitted at once (their submits overlap); the time runs to the last finished message. */
async function timeMany(submitter: Submitter): Promise<{ ms: number; submitMs: number }> {
  const workflow = randomDag(MANY_SIZE, 11);
  const start = Date.now();
  const ids = await Promise.all(Array.from({ length: MANY }, () => submitter.submit(workflow)));
  const submitMs = Date.now() - start;
  const ends = await Promise.all(ids.map((id) => submitter.finished(id)));
  const bad = ends.filter((e) => e.status !== 'completed').length;
  if (bad > 0) throw new Error(`${bad} of ${MANY} runs did not complete`);
  return { ms: Math.max(...ends.map((e) => e.at)) - start, submitMs };
}

async function withWorkers<T>(
  ctx: BenchContext,
  count: number,
  work: (children: BenchChild[]) => Promise<T>,
): Promise<T> {
  const children = await startOrchWorkers(ctx.redis.settings, ctx.redis.admin, count, { concurrency: ctx.concurrency });
  try {
    return await work(children);
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}

/**
 * Case 5: a 10,000-task random DAG; 1,000 concurrent 10-task runs (admission limit set high on the submitter and the
 * worker alike, since both apply it); and the wide and random shapes on 2 worker processes against 1.
 */
export const scaleCase: BenchCase = {
  key: 'scale',
  title: 'Scale',
  async run(ctx) {
    const submitter = await Submitter.create(ctx.redis, { maxConcurrentWorkflows: 1_000_000 });
    try {
      const big: { ms: number; submitMs: number }[] = [];
      const many: { ms: number; submitMs: number }[] = [];
      const bigRss: number[] = [];
      // Throughput, and CPU ms per task of Redis plus all worker processes: 2 processes using more CPU per task than
      // 1 would be coordination overhead; the same CPU at a lower rate is contention for the machine's cores.
      const scaling: Record<string, { one: number[]; two: number[]; cpuOne: number[]; cpuTwo: number[] }> = {
        wide: { one: [], two: [], cpuOne: [], cpuTwo: [] },
        random: { one: [], two: [], cpuOne: [], cpuTwo: [] },
      };
      const timed = async (children: BenchChild[], make: () => BenchWorkflow) => {
        const meter = await cpuMeter(ctx.redis, Object.fromEntries(children.map((c) => [c.name, c.pid])));
        const r = await timeOne(submitter, make());
        const cpu = await meter.stop();
        const total = Object.entries(cpu)
          .filter(([k]) => k !== 'bench')
          .reduce((sum, [, v]) => sum + v, 0);
        return { perSecond: (2000 / r.ms) * 1000, cpuMsPerTask: (total * 1000) / 2000 };
      };
      const shapes: Record<string, () => BenchWorkflow> = {
        wide: () => wide(2000),
        random: () => randomDag(2000, RANDOM_SEED),
      };

      await withWorkers(ctx, 1, async (children) => {
        await timeOne(submitter, randomDag(300, 3)); // warm-up
        for (let rep = 0; rep < ctx.reps; rep++) {
          const rss = sampleRss(children);
          const r = await timeOne(submitter, randomDag(BIG, RANDOM_SEED + rep));
          bigRss.push(rss.stop());
          big.push(r);
          ctx.log(`scale rep ${rep + 1}: ${BIG}-task DAG ${r.ms} ms (submit ${r.submitMs} ms)`);
          const m = await timeMany(submitter);
          many.push(m);
          ctx.log(`scale rep ${rep + 1}: ${MANY} x ${MANY_SIZE}-task runs ${m.ms} ms (submits ${m.submitMs} ms)`);
          for (const [key, make] of Object.entries(shapes)) {
            const one = await timed(children, make);
            scaling[key]?.one.push(one.perSecond);
            scaling[key]?.cpuOne.push(one.cpuMsPerTask);
          }
        }
      });
      await withWorkers(ctx, 2, async (children) => {
        await timeOne(submitter, randomDag(300, 3));
        for (let rep = 0; rep < ctx.reps; rep++) {
          for (const [key, make] of Object.entries(shapes)) {
            const two = await timed(children, make);
            scaling[key]?.two.push(two.perSecond);
            scaling[key]?.cpuTwo.push(two.cpuMsPerTask);
          }
          ctx.log(
            `scale rep ${rep + 1}: 2 workers wide ${Math.round(scaling.wide?.two[rep] ?? 0)} tasks/s, ` +
              `random ${Math.round(scaling.random?.two[rep] ?? 0)} tasks/s`,
          );
        }
      });

      const bigS = summarize(big.map((r) => r.ms / 1000));
      const manyS = summarize(many.map((r) => r.ms / 1000));
      const rows: Row[] = [
        {
          case: `5 scale ${BIG.toLocaleString('en-US')}-task random DAG`,
          orchestrator: fmt(bigS, 's'),
          raw: '',
          ratio: `${fmt(summarize(big.map((r) => (BIG / r.ms) * 1000)), 'tasks/s')}`,
          target: 'completes',
          ok: true,
        },
        {
          case: `5 scale ${MANY.toLocaleString('en-US')} concurrent ${MANY_SIZE}-task runs`,
          orchestrator: fmt(manyS, 's'),
          raw: '',
          ratio: `${fmt(summarize(many.map((r) => ((MANY * MANY_SIZE) / r.ms) * 1000)), 'tasks/s')}`,
          target: 'completes',
          ok: true,
        },
      ];
      const data: Record<string, unknown> = {
        big: {
          shape: describeShape(randomDag(BIG, RANDOM_SEED)),
          seconds: summaryJson(bigS),
          submitMs: summaryJson(summarize(big.map((r) => r.submitMs))),
          workerPeakRssMb: summaryJson(summarize(bigRss)),
        },
        many: {
          runs: MANY,
          tasksPerRun: MANY_SIZE,
          seconds: summaryJson(manyS),
          submitAllMs: summaryJson(summarize(many.map((r) => r.submitMs))),
        },
      };
      for (const [key, s] of Object.entries(scaling)) {
        const one = summarize(s.one);
        const two = summarize(s.two);
        // Repetitions are paired by index: the i-th 2-worker run against the i-th 1-worker run.
        const ratio = summarize(s.two.map((t, i) => t / (s.one[i] ?? Number.NaN)));
        const cpuOne = summarize(s.cpuOne);
        const cpuTwo = summarize(s.cpuTwo);
        rows.push({
          case: `5 scale 2 worker procs vs 1, ${key} 2,000`,
          orchestrator: `${fmt(two)} vs ${fmt(one)} tasks/s; cpu ${cpuTwo.median.toFixed(2)} vs ${cpuOne.median.toFixed(2)} ms/task`,
          raw: '',
          ratio: fmt(ratio, 'x', 2),
          target: '(report)',
        });
        data[`scaling_${key}`] = {
          oneWorker: summaryJson(one),
          twoWorkers: summaryJson(two),
          ratio: summaryJson(ratio),
          cpuMsPerTaskOneWorker: summaryJson(cpuOne),
          cpuMsPerTaskTwoWorkers: summaryJson(cpuTwo),
        };
      }
      rows.push({
        case: `5 worker RSS peak during ${BIG.toLocaleString('en-US')}-task DAG`,
        orchestrator: fmt(summarize(bigRss), 'MB'),
        raw: '',
        ratio: '',
        target: '(report)',
      });
      return { rows, data } satisfies CaseResult;
    } finally {
      await submitter.close();
    }
  },
};
