import { respCommand } from '@orch/process';
import { type RedisCluster, startRedisCluster, waitUntil, withDeadline } from '@orch/testing';
import { FlowProducer, type Job, Queue, Worker } from 'bullmq';
import { Cluster } from 'ioredis';
import { createRedisClient, isCluster, type RedisClient } from './create-redis-client';
import { closeConnection, within } from './shutdown-steps';

jest.setTimeout(90_000);

// Both queues under one hash tag, so a flow's parent and child keys share a slot.
const PREFIX = 'orch:{p3}';
const SLOT_KEY = '{p3}';

let cluster: RedisCluster;
const clients: RedisClient[] = [];
const closers: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(async () => {
  // Bounded: a BullMQ close on a Cluster client sends QUIT to every node, and the hang test leaves one stopped.
  for (const close of closers.reverse()) await within(close(), 3000);
  for (const client of clients) await closeConnection(client);
  await cluster?.stop();
});

const settings = () => ({ host: 'unused', port: 1, clusterNodes: cluster.startupNodes });
function client(profile: 'api' | 'worker' | 'subscriber', name?: string): RedisClient {
  const made = createRedisClient(settings(), profile, name);
  clients.push(made);
  return made;
}

/** Connections named `name` on every node, by CLIENT LIST. */
async function connectionsNamed(name: string): Promise<Record<number, number>> {
  const counts: Record<number, number> = {};
  for (const node of cluster.nodes) {
    const list = String(await respCommand(node.host, node.port, ['CLIENT', 'LIST']));
    const n = list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
    if (n > 0) counts[node.port] = n;
  }
  return counts;
}

describe('createRedisClient on a real 3+3 cluster', () => {
  it('makes a Cluster from clusterNodes (a plain client without), with the profile settings', () => {
    const worker = client('worker');
    expect(isCluster(worker)).toBe(true);
    expect(worker).toBeInstanceOf(Cluster);
    const options = (worker as Cluster).options;
    expect(options.redisOptions?.maxRetriesPerRequest).toBeNull();
    expect(options.scaleReads).toBe('master');
    expect(options.enableOfflineQueue).toBe(true);
    const api = (client('api') as Cluster).options;
    expect(api.enableOfflineQueue).toBe(false);
    expect(api.redisOptions?.maxRetriesPerRequest).toBe(1);
    const plain = createRedisClient({ host: '127.0.0.1', port: cluster.nodes[0]?.port as number }, 'worker');
    clients.push(plain);
    expect(isCluster(plain)).toBe(false);
  });

  it('opens one connection (to the slot primary) for a client that only talks to one slot', async () => {
    const name = 'count-probe';
    const probe = client('worker', name) as Cluster;
    await probe.set(`${SLOT_KEY}:a`, '1');
    for (let i = 0; i < 20; i++) await probe.get(`${SLOT_KEY}:a`);
    const owner = await cluster.nodeOfSlot(await slotOf(SLOT_KEY));
    const counts = await connectionsNamed(name);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `connections of a one-slot Cluster client: ${JSON.stringify(counts)} (slot primary ${owner.port})\n`,
    );
    expect(counts[owner.port]).toBe(1);
    expect(total).toBeLessThanOrEqual(2); // + the ready check's node when it is another one
  });

  it('runs a BullMQ flow (parent and child queues under one hash tag) to completion', async () => {
    const connection = client('worker') as Cluster;
    const flows = new FlowProducer({ connection, prefix: PREFIX });
    closers.push(() => flows.close());
    const seen: string[] = [];
    const childWorker = new Worker('children', async (job: Job) => seen.push(`child ${job.data.n}`) && job.data.n * 2, {
      connection,
      prefix: PREFIX,
    });
    const parentDone = new Promise<unknown>((resolve) => {
      const parentWorker = new Worker(
        'parents',
        async (job: Job) => {
          const values = Object.values(await job.getChildrenValues()) as number[];
          return values.reduce((a, b) => a + b, 0);
        },
        { connection, prefix: PREFIX },
      );
      parentWorker.on('completed', (_job, result) => resolve(result));
      closers.push(() => parentWorker.close());
    });
    closers.push(() => childWorker.close());
    await flows.add({
      name: 'sum',
      queueName: 'parents',
      children: [1, 2, 3].map((n) => ({ name: 'double', queueName: 'children', data: { n } })),
    });
    expect(await withDeadline(parentDone, 20_000, 'the parent job')).toBe(12);
    expect(seen.sort()).toEqual(['child 1', 'child 2', 'child 3']);
  });

  it('keeps a worker going through a kill -9 of the slot primary; the api profile fails fast meanwhile', async () => {
    const lines: { message: string; meta: Record<string, unknown> }[] = [];
    const record = (message: string, meta: Record<string, unknown> = {}) => lines.push({ message, meta });
    const connection = createRedisClient(settings(), 'worker', 'steady', { info: record, warn: record }) as Cluster;
    clients.push(connection);
    const queue = new Queue('steady', { connection, prefix: PREFIX });
    closers.push(() => queue.close());
    const runs = new Map<string, number>();
    const worker = new Worker(
      'steady',
      async (job: Job) => {
        runs.set(job.id as string, (runs.get(job.id as string) ?? 0) + 1);
      },
      { connection, prefix: PREFIX, concurrency: 5 },
    );
    worker.on('error', () => undefined); // connection errors during the failover; the outcome is checked below
    closers.push(() => worker.close());
    const acked: string[] = [];
    const failedAdds: string[] = [];
    let producing = true;
    const producer = (async () => {
      for (let n = 0; producing; n++) {
        try {
          acked.push((await queue.add('tick', { n })).id as string);
        } catch (error) {
          failedAdds.push(String(error));
        }
        await new Promise((resolve) => setTimeout(resolve, 20)); // the steady flow's pace, not a synchronisation
      }
    })();
    await waitUntil(async () => runs.size >= 20, 15_000, 'the first jobs to run');

    const api = client('api');
    const victim = (await cluster.nodeOfSlot(await slotOf(SLOT_KEY))).node;
    await cluster.kill(victim);
    const killedAt = Date.now();
    const apiCalls: { ok: boolean; ms: number; at: number }[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const started = Date.now();
        const ok = await api.get(`${SLOT_KEY}:probe`).then(
          () => true,
          () => false,
        );
        apiCalls.push({ ok, ms: Date.now() - started, at: Date.now() - killedAt });
        await new Promise((resolve) => setTimeout(resolve, 100)); // probe pace
      }
    })();
    const heir = await cluster.waitForFailover(victim);
    const failoverMs = Date.now() - killedAt;
    const ackedAtFailover = acked.length;
    await waitUntil(async () => acked.length >= ackedAtFailover + 20, 20_000, 'jobs added after the failover');
    await waitUntil(async () => apiCalls.at(-1)?.ok === true, 10_000, 'the api client to work again');
    producing = false;
    probing = false;
    await Promise.all([producer, prober]);
    await waitUntil(async () => acked.every((id) => runs.has(id)), 30_000, 'every acknowledged job to run');
    const twice = [...runs.values()].filter((n) => n > 1).length;
    const failing = apiCalls.filter((c) => !c.ok);
    process.stdout.write(
      `failover: ${failoverMs} ms to a new primary (${victim.port} -> ${heir.port}); ${acked.length} jobs acknowledged ` +
        `(${ackedAtFailover} before the promotion), ${failedAdds.length} adds refused, ${acked.filter((id) => !runs.has(id)).length} lost, ` +
        `${twice} ran twice; api: ${failing.length} failed calls, slowest ${Math.max(0, ...failing.map((c) => c.ms))} ms, ` +
        `working again ${apiCalls.find((c, i) => c.ok && i >= apiCalls.findIndex((f) => !f.ok))?.at} ms after the kill\n`,
    );
    expect(failedAdds).toEqual([]);
    // The node's loss is said once, however often the retries recreated and dropped its connection.
    const aboutVictim = lines.filter((l) => l.meta.node === `${victim.host}:${victim.port}`).map((l) => l.message);
    expect(aboutVictim.filter((m) => m === 'redis cluster node lost')).toEqual(['redis cluster node lost']);
    expect(aboutVictim.filter((m) => m === 'redis cluster node error').length).toBeLessThanOrEqual(1);
    expect(lines.filter((l) => l.meta.node === `${heir.host}:${heir.port}`).map((l) => l.message)).toContain(
      'redis cluster node connected',
    );
    expect(failing.every((c) => c.ms < 3000)).toBe(true);
    expect(apiCalls.at(-1)?.ok).toBe(true);
  });

  it('gets past a primary that hangs (SIGSTOP): the api profile fails in 2 s, then both profiles find the heir', async () => {
    // A shard the kill above left alone (its primary still has its replica).
    const damaged = (await cluster.nodeOfSlot(await slotOf(SLOT_KEY))).port;
    let tag = '';
    for (let n = 0; !tag; n++) {
      if ((await cluster.nodeOfSlot(await slotOf(`{t${n}}`))).port !== damaged) tag = `{t${n}}`;
    }
    const api = client('api');
    const worker = client('worker');
    await waitUntil(async () => api.status === 'ready', 10_000, 'the api client');
    await Promise.all([api.set(`${tag}:k`, 'v'), worker.get(`${tag}:k`)]);
    const victim = (await cluster.nodeOfSlot(await slotOf(tag))).node;
    await cluster.freeze(victim);
    const frozenAt = Date.now();
    const waiting = worker.get(`${tag}:k`).then(() => Date.now() - frozenAt);
    const calls: { ok: boolean; ms: number }[] = [];
    while (calls.at(-1)?.ok !== true) {
      if (Date.now() - frozenAt > 30_000) throw new Error('the api client did not find the new primary');
      const started = Date.now();
      const ok = await api.get(`${tag}:k`).then(
        (value) => value === 'v',
        () => false,
      );
      calls.push({ ok, ms: Date.now() - started });
      await new Promise((resolve) => setTimeout(resolve, 100)); // probe pace
    }
    const heir = await cluster.waitForFailover(victim);
    const workerMs = await withDeadline(waiting, 20_000, "the worker's command");
    const failing = calls.filter((c) => !c.ok);
    process.stdout.write(
      `hung primary ${victim.port} -> ${heir.port}: api failed ${failing.length} calls (slowest ` +
        `${Math.max(...failing.map((c) => c.ms))} ms), worked again after ${Date.now() - frozenAt} ms; the worker's ` +
        `command completed after ${workerMs} ms\n`,
    );
    expect(failing.length).toBeGreaterThan(0);
    expect(failing.every((c) => c.ms < 3000)).toBe(true);
  });
});

/** CLUSTER KEYSLOT of `key`, asked of a node directly (through a client it would open a connection of its own). */
async function slotOf(key: string): Promise<number> {
  const node = cluster.running()[0] as { host: string; port: number };
  return Number(await respCommand(node.host, node.port, ['CLUSTER', 'KEYSLOT', key]));
}
