'use strict';
/**
 * The Restate side of `pnpm bench:peers`: one service whose handlers are the bench's workloads, every step a
 * `ctx.run` of a no-op (journaled by the Restate server like any step). Started by bench/src/peers/restate.ts with
 * PORT (the HTTP/2 endpoint the server calls) and STATS_PORT (a plain HTTP counter the bench polls to learn that a
 * flat-out batch has drained without querying the server while it is measured).
 */

// SDK 1.17 calls Promise.withResolvers (Node 22+); the bench runs on Node 20.
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      let resolve;
      let reject;
      const promise = new this((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

const http = require('node:http');
const http2 = require('node:http2');
const restate = require('@restatedev/restate-sdk');

const { RestatePromise } = restate;
const noop = async () => 1;
const done = { chain: 0, diamond: 0, fanout: 0, five: 0 };

const bench = restate.service({
  name: 'bench',
  handlers: {
    /** (a) c0 -> c1 */
    chain: async (ctx) => {
      await ctx.run('c0', noop);
      await ctx.run('c1', noop);
      done.chain++;
      return { ok: true };
    },
    /** (b) a -> {b, c} -> d */
    diamond: async (ctx) => {
      await ctx.run('a', noop);
      await RestatePromise.all([ctx.run('b', noop), ctx.run('c', noop)]);
      await ctx.run('d', noop);
      done.diamond++;
      return { ok: true };
    },
    /** (c) root -> width steps at once -> join */
    fanout: async (ctx, input) => {
      const width = Number(input?.width ?? 1000);
      await ctx.run('root', noop);
      await RestatePromise.all(Array.from({ length: width }, (_, i) => ctx.run(`w${i}`, noop)));
      await ctx.run('join', noop);
      done.fanout++;
      return { ok: true, width };
    },
    /** (d) a -> {b, c} -> d -> e, the orchestrator bench's 5-task template */
    five: async (ctx) => {
      await ctx.run('a', noop);
      await RestatePromise.all([ctx.run('b', noop), ctx.run('c', noop)]);
      await ctx.run('d', noop);
      await ctx.run('e', noop);
      done.five++;
      return { ok: true };
    },
  },
});

const port = Number(process.env.PORT);
const statsPort = Number(process.env.STATS_PORT);
const endpoint = http2.createServer(restate.endpoint().bind(bench).http2Handler());
const stats = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ pid: process.pid, done }));
});

endpoint.listen(port, '127.0.0.1', () => {
  stats.listen(statsPort, '127.0.0.1', () => process.stderr.write(`restate service ready on ${port}\n`));
});

const stop = () => {
  endpoint.close();
  stats.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
