import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCli } from './cli';

/** A server of "another process" on a port: it answers every request with 200, as a healthy API would. */
async function impostor(): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

async function up(env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['up'], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: { PATH: process.env.PATH, ...env },
  });
  return { code, out, err };
}

describe('orchestrator up (pnpm start) with a port already in use', () => {
  it('names the API port and the variable that changes it, and prints no healthy banner', async () => {
    const { server, port } = await impostor();
    try {
      const result = await up({ ORCHESTRATOR_PORT: String(port) });
      expect(result.code).toBe(1);
      expect(result.err).toEqual([
        `error: the API cannot listen on 0.0.0.0:${port}: another process already uses that port. ` +
          `Stop it, or set ORCHESTRATOR_PORT to a free port (for example ORCHESTRATOR_PORT=${port + 1} pnpm start).`,
      ]);
      // Nothing was started, and nothing claims to be up.
      expect(result.out).toEqual([]);
    } finally {
      server.close();
    }
  });

  it("names WORKER_METRICS_PORT when the worker's metrics port is taken", async () => {
    const { server, port } = await impostor();
    const api = await impostor();
    api.server.close(); // a port that was free a moment ago, for the API
    try {
      const result = await up({ ORCHESTRATOR_PORT: String(api.port), WORKER_METRICS_PORT: String(port) });
      expect(result.code).toBe(1);
      expect(result.err.join('\n')).toContain(
        `the worker's /metrics cannot listen on 0.0.0.0:${port}: another process already uses that port. Stop it, or set WORKER_METRICS_PORT to a free port`,
      );
      expect(result.out).toEqual([]);
    } finally {
      server.close();
    }
  });
});
