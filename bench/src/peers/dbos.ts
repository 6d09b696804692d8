import { join } from 'node:path';
import { freePort } from '@orch/testing';
import { HttpClient } from './http';
import { spawnOwned } from './owned-process';
import { PEERS_DIR } from './peers-install';
import { type PrivatePostgres, startPostgres } from './postgres';
import { assertListener } from './proc-tree';
import { packageVersion } from './restate';
import type { CompletionCounter, Flow, RunClient, RunningSystem } from './system';

const APP = join(PEERS_DIR, 'dbos-app.cjs');

class DbosClient implements RunClient {
  private readonly http: HttpClient;

  constructor(base: string) {
    this.http = new HttpClient(base);
  }

  async run(flow: Flow, width?: number): Promise<void> {
    const res = await this.http.post(`/run/${flow}`, width === undefined ? {} : { width });
    if (res.status !== 200 || (res.body as { ok?: boolean }).ok !== true)
      throw new Error(`dbos ${flow}: ${res.status} ${JSON.stringify(res.body)}`);
  }

  close(): void {
    this.http.close();
  }
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** DBOS: its own PostgreSQL (started here) and the bench's DBOS app process in front of it. */
export async function startDbos(log: (m: string) => void): Promise<RunningSystem> {
  const pg: PrivatePostgres = await startPostgres({ log });
  try {
    const port = await freePort();
    const app = spawnOwned('dbos-app', process.execPath, [APP], {
      cwd: PEERS_DIR,
      env: { PORT: String(port), DBOS_SYSTEM_DATABASE_URL: pg.url, NODE_ENV: 'production' },
    });
    const stop = async () => {
      await app.stop();
      await pg.stop();
    };
    try {
      await app.waitForOutput('dbos app ready', 60_000);
      assertListener(app.pid, port, 'the bench DBOS app');
      const base = `http://127.0.0.1:${port}`;
      const stats = await getJson<{ pid: number }>(`${base}/stats`);
      if (stats.pid !== app.pid) throw new Error(`port ${port} answers from pid ${stats.pid}, not the DBOS app`);
      const settings = await getJson<Record<string, string>>(`${base}/settings`);
      if (settings.data_directory !== pg.dataDir)
        throw new Error(`the DBOS app reached ${settings.data_directory}, not the bench PostgreSQL`);
      log(`DBOS app on 127.0.0.1:${port} (pid ${app.pid})`);
      return {
        name: 'dbos',
        pids: () => [pg.pid, app.pid],
        variants: [{ key: 'dbos', system: 'dbos', label: 'DBOS', client: async () => new DbosClient(base) }],
        flatOut: { url: `${base}/start/five`, body: '{}' },
        counter: async () => dbosCounter(base),
        describe: async () => ({
          sdk: packageVersion('@dbos-inc/dbos-sdk'),
          postgres: pg.version,
          durability: settings,
          notes: 'PostgreSQL as initdb leaves it; DBOS launched with its defaults (system database pool of 10)',
        }),
        stop,
      };
    } catch (error) {
      await stop();
      throw error;
    }
  } catch (error) {
    await pg.stop();
    throw error;
  }
}

async function doneFives(base: string): Promise<number> {
  return (await getJson<{ done: { five: number } }>(`${base}/stats`)).done.five;
}

async function dbosCounter(base: string): Promise<CompletionCounter> {
  const start = await doneFives(base);
  return {
    progress: async () => (await doneFives(base)) - start,
    completedBetween: async (from, to) =>
      (await getJson<{ completed: number }>(`${base}/completed?name=five&from=${from}&to=${to}`)).completed,
    close: async () => undefined,
  };
}
