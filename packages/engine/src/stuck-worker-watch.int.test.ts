import { silentLogger } from '@orch/logger';
import { createRedisConnection } from '@orch/redis';
import { type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import type { Redis } from 'ioredis';
import { StuckWorkerWatch, type WatchedWorker } from './stuck-worker-watch';

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await startRedisServer();
  redis = createRedisConnection({ host: server.host, port: server.port }, 'worker');
  await redis.rpush('q:stuck:wait', 'j1', 'j2');
  await redis.rpush('q:busy:wait', 'j3');
});
afterAll(async () => {
  await redis.quit();
  await server.stop();
});

describe('StuckWorkerWatch', () => {
  it('replaces a worker that starts nothing while jobs wait, and leaves working and idle ones alone', async () => {
    const stuck: WatchedWorker = { waitKey: 'q:stuck:wait', starts: 3, running: 0 };
    const busy: WatchedWorker = { waitKey: 'q:busy:wait', starts: 0, running: 0 };
    const idle: WatchedWorker = { waitKey: 'q:empty:wait', starts: 0, running: 0 };
    const looked = { n: 0 };
    const replaced: WatchedWorker[] = [];
    let done: () => void = () => undefined;
    const first = new Promise<void>((resolve) => {
      done = resolve;
    });
    const watch = new StuckWorkerWatch(
      redis,
      () => {
        looked.n++;
        busy.starts++; // takes a job between every two looks
        return [stuck, busy, idle];
      },
      (worker) => {
        replaced.push(worker);
        done();
      },
      silentLogger(),
      20,
    );
    watch.start();
    try {
      await withDeadline(first, 5_000, 'the stuck worker to be replaced');
    } finally {
      await watch.stop();
    }
    expect(replaced).toEqual([stuck]);
    // Found on the second look at the earliest: one look alone never replaces.
    expect(looked.n).toBeGreaterThanOrEqual(2);
  });
});
