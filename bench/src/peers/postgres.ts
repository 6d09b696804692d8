import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@orch/testing';
import { type OwnedProcess, ownDir, removeDir, spawnOwned } from './owned-process';
import { assertListener } from './proc-tree';

export const INSTALL_HINT = 'PostgreSQL binaries not found: install them with `apt-get install -y postgresql`';

/** A PostgreSQL of the bench's own: a fresh cluster in a temporary directory, on a free port of 127.0.0.1. */
export interface PrivatePostgres {
  readonly pid: number;
  readonly port: number;
  readonly dataDir: string;
  /** Connection URL of the bench's database (DBOS creates it on launch). */
  readonly url: string;
  readonly version: string;
  stop(): Promise<void>;
}

/** Debian's binaries, newest major first: /usr/lib/postgresql/<major>/bin, or PG_BIN when set. */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const has = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));
  if (env.PG_BIN) return has(env.PG_BIN) ? env.PG_BIN : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((d) => /^\d+$/.test(d))
    .sort((a, b) => Number(b) - Number(a));
  return majors.map((m) => join(root, m, 'bin')).find(has);
}

/** PostgreSQL refuses to run as root: as root, the cluster belongs to `nobody`. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('nobody:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (!uid || !gid) throw new Error('running as root and there is no `nobody` user to run PostgreSQL as');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function startPostgres(options: { log?: (m: string) => void } = {}): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(INSTALL_HINT);
  const user = serverUser();
  const dir = ownDir(mkdtempSync(join(tmpdir(), 'orch-peers-pg-')));
  const dataDir = join(dir, 'data');
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  // Defaults everywhere (fsync, synchronous_commit, WAL settings): how a PostgreSQL for DBOS runs out of the box.
  const initdb = spawnOwned(
    'initdb',
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'bench', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-instructions'],
    { ...asUser, cwd: dir },
  );
  const code = await new Promise<number | null>((resolve) => initdb.proc.once('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`initdb failed (${code}): ${initdb.output()}`);
  rmSync(pwfile, { force: true });

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const server = spawnOwned(
      'postgres',
      join(bin, 'postgres'),
      ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      { ...asUser, cwd: dir, stopSignal: 'SIGINT', graceMs: 10_000 },
    );
    try {
      await server.waitForOutput('database system is ready to accept connections', 30_000);
      assertListener(server.pid, port, 'the bench PostgreSQL');
      const version = execFileSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).trim();
      options.log?.(`PostgreSQL on 127.0.0.1:${port} (pid ${server.pid}, ${dataDir})`);
      return {
        pid: server.pid,
        port,
        dataDir,
        url: `postgresql://bench:${password}@127.0.0.1:${port}/dbos_bench`,
        version,
        async stop() {
          await server.stop();
          removeDir(dir);
        },
      };
    } catch (error) {
      lastError = error;
      await server.stop();
      if (!portTaken(server)) break; // not a lost race for the port: trying another one will not help
    }
  }
  removeDir(dir);
  throw new Error(`could not start PostgreSQL: ${String(lastError)}`);
}

function portTaken(server: OwnedProcess): boolean {
  return /could not bind|Address already in use/i.test(server.output());
}
