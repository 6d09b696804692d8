'use strict';
/**
 * The DBOS side of `pnpm bench:peers`: DBOS workflows whose steps are `DBOS.runStep` no-ops (each one checkpointed
 * in PostgreSQL), behind a plain node:http server so clients reach it over HTTP like the other two systems:
 *
 *   POST /run/<workflow>    runs the workflow and answers 200 with its result (submit -> result)
 *   POST /start/<workflow>  starts it and answers 202 with its id once DBOS has recorded it (flat-out submits)
 *   GET  /stats             this process's pid and how many runs of each workflow have returned
 *   GET  /completed?name=&from=&to=   runs recorded SUCCESS with updated_at in [from, to] (epoch ms)
 *   GET  /settings          the PostgreSQL settings that decide durability, as this connection sees them
 *
 * Started by bench/src/peers/dbos.ts with PORT and DBOS_SYSTEM_DATABASE_URL (the bench's private PostgreSQL).
 */
const http = require('node:http');
const { DBOS } = require('@dbos-inc/dbos-sdk');
const { Pool } = require('pg');

const noop = async () => 1;
const step = (name) => DBOS.runStep(noop, { name });
const done = { chain: 0, diamond: 0, fanout: 0, five: 0 };

const workflows = {
  /** (a) c0 -> c1 */
  chain: DBOS.registerWorkflow(
    async () => {
      await step('c0');
      await step('c1');
      done.chain++;
      return { ok: true };
    },
    { name: 'chain' },
  ),
  /** (b) a -> {b, c} -> d */
  diamond: DBOS.registerWorkflow(
    async () => {
      await step('a');
      await Promise.all([step('b'), step('c')]);
      await step('d');
      done.diamond++;
      return { ok: true };
    },
    { name: 'diamond' },
  ),
  /** (c) root -> width steps at once -> join */
  fanout: DBOS.registerWorkflow(
    async (width) => {
      await step('root');
      await Promise.all(Array.from({ length: width }, (_, i) => step(`w${i}`)));
      await step('join');
      done.fanout++;
      return { ok: true, width };
    },
    { name: 'fanout' },
  ),
  /** (d) a -> {b, c} -> d -> e, the orchestrator bench's 5-task template */
  five: DBOS.registerWorkflow(
    async () => {
      await step('a');
      await Promise.all([step('b'), step('c')]);
      await step('d');
      await step('e');
      done.five++;
      return { ok: true };
    },
    { name: 'five' },
  ),
};

/** The bench's own queries, on a connection of their own (not DBOS's pool), and only between measurements. */
const pool = new Pool({ connectionString: process.env.DBOS_SYSTEM_DATABASE_URL, max: 1 });

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      try {
        resolve(text ? JSON.parse(text) : {});
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}

function send(res, status, body) {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

async function route(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const [, action, name] = url.pathname.split('/');
  if (req.method === 'POST' && (action === 'run' || action === 'start') && Object.hasOwn(workflows, name)) {
    const input = await readBody(req);
    const args = name === 'fanout' ? [Number(input.width ?? 1000)] : [];
    // Called as a plain function: as a method of `workflows`, DBOS would take `workflows` for a class instance.
    const workflow = workflows[name];
    if (action === 'run') return send(res, 200, await workflow(...args));
    const handle = await DBOS.startWorkflow(workflow)(...args);
    return send(res, 202, { workflow_id: handle.workflowID });
  }
  if (req.method === 'GET' && action === 'stats') return send(res, 200, { pid: process.pid, done });
  if (req.method === 'GET' && action === 'completed') {
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM dbos.workflow_status
       WHERE name = $1 AND status = 'SUCCESS' AND updated_at BETWEEN $2 AND $3`,
      [url.searchParams.get('name'), Number(url.searchParams.get('from')), Number(url.searchParams.get('to'))],
    );
    return send(res, 200, { completed: rows[0].n });
  }
  if (req.method === 'GET' && action === 'settings') {
    const names = ['server_version', 'data_directory', 'fsync', 'synchronous_commit', 'wal_sync_method'];
    const settings = {};
    for (const setting of [...names, 'full_page_writes', 'max_connections', 'shared_buffers']) {
      settings[setting] = (await pool.query(`SHOW ${setting}`)).rows[0][setting];
    }
    return send(res, 200, settings);
  }
  send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
}

async function main() {
  DBOS.setConfig({ name: 'orch-bench', systemDatabaseUrl: process.env.DBOS_SYSTEM_DATABASE_URL, logLevel: 'warn' });
  await DBOS.launch();
  const server = http.createServer((req, res) => {
    route(req, res).catch((error) => send(res, 500, { error: String(error?.stack ?? error) }));
  });
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stderr.write('dbos app ready\n'));
  const stop = async () => {
    server.close();
    await DBOS.shutdown().catch(() => undefined);
    await pool.end().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error) => {
  process.stderr.write(`dbos app failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
