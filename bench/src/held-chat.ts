import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A chat-completions endpoint that holds every request until `release()`: an `ai` task on it is a job a worker runs
 * (and holds the lock of) for as long as the bench wants, with no exec and no CPU.
 */
export interface HeldChat {
  baseUrl: string;
  /** Requests received so far. */
  received(): number;
  /** Resolves once `n` requests in all have been received. */
  waitFor(n: number): Promise<void>;
  /** Answers every held request, and every later one at once. */
  release(): void;
  /** Holds requests again (after a release). */
  hold(): void;
  close(): Promise<void>;
}

const ANSWER = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

export async function startHeldChat(): Promise<HeldChat> {
  const held: ServerResponse[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let count = 0;
  let released = false;
  const answer = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER);
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      for (const w of waiters.filter((x) => count >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      if (released) answer(res);
      else held.push(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    received: () => count,
    waitFor: (n) => (count >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
    release() {
      released = true;
      for (const res of held.splice(0)) answer(res);
    },
    hold() {
      released = false;
    },
    close() {
      for (const res of held.splice(0)) res.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
