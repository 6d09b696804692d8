import { prepareInline } from '@orch/core';
import { withDeadline } from '@orch/testing';
import type { RunClaim } from './execution-definition';
import { type Harness, startHarness, wf } from './testing';

jest.setTimeout(60_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ executionTtlMs: 600_000 });
  await h.startWorker();
});
afterAll(() => h?.stop());

const say = (word: string) => prepareInline(wf([{ id: 'say', type: 'transform', parameters: { output: word } }]), {});
const submit = (claim: RunClaim, word = 'hi') => h.engine.submit(say(word), { claim });
const runCount = () => h.connection.zcard(h.ctx.keys.index());

describe('idempotency claims', () => {
  it('keeps each space apart: submitters, the anonymous space and the engine own ids', async () => {
    const id = 'shared-id';
    const claims: RunClaim[] = [
      { space: 'client', id, fingerprint: 'f' },
      { space: 'client', id, submitter: 'ci', fingerprint: 'f' },
      { space: 'client', id, submitter: 'ops', fingerprint: 'f' },
      // A name that would spell another pair's key without encoding: 'a:b' + 'c' against 'a' + 'b:c'.
      { space: 'client', id: 'c', submitter: 'a:b', fingerprint: 'f' },
      { space: 'client', id: 'b:c', submitter: 'a', fingerprint: 'f' },
      { space: 'child', id },
      { space: 'schedule', id },
    ];
    const runs = await Promise.all(claims.map((c) => submit(c)));
    expect(runs.map((r) => r.created)).toEqual(claims.map(() => true));
    expect(new Set(runs.map((r) => r.executionId)).size).toBe(claims.length);
    const again = await Promise.all(claims.map((c) => submit(c)));
    expect(again.map((r) => [r.executionId, r.created])).toEqual(runs.map((r) => [r.executionId, false]));
  });

  it('writes nothing for a claim already held; another fingerprint is a CONFLICT naming the run', async () => {
    const claim: RunClaim = { space: 'client', id: 'once', submitter: 'ci', fingerprint: 'body-1' };
    const first = await submit(claim);
    const before = await runCount();
    // Twenty racing submissions: none creates a second run, and none leaves a stray write behind.
    const raced = await Promise.all(Array.from({ length: 20 }, () => submit(claim)));
    expect(raced.every((r) => r.executionId === first.executionId && !r.created)).toBe(true);
    expect(await runCount()).toBe(before);
    await expect(submit({ ...claim, fingerprint: 'body-2' }, 'other')).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining(`already used for execution ${first.executionId}`),
    });
    expect(await runCount()).toBe(before);
  });

  it("holds a finished run's claim as long as its record", async () => {
    const claim: RunClaim = { space: 'schedule', id: 'nightly:1' };
    const run = await submit(claim);
    await h.waitForEnd(run.executionId);
    const key = h.ctx.keys.engineClaim('schedule', 'nightly:1');
    const gap = async () =>
      Math.abs((await h.connection.pttl(key)) - (await h.connection.pttl(h.ctx.keys.meta(run.executionId))));
    // The claim gets the record's TTL just after the run's end is published: wait for that EXPIRE if it is still to come.
    await h.connection.config('SET', 'notify-keyspace-events', 'Kg');
    const listener = h.connection.duplicate();
    try {
      const expired = new Promise<void>((resolve) => listener.on('message', () => resolve()));
      await listener.subscribe(`__keyspace@0__:${key}`);
      if ((await gap()) >= 5_000) await withDeadline(expired, 10_000, 'the claim to get the record TTL');
    } finally {
      listener.disconnect();
    }
    expect(await gap()).toBeLessThan(5_000);
    expect(await h.connection.hget(key, 'execution_id')).toBe(run.executionId);
  });
});
