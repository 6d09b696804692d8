import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { infoFields, respCommand } from './resp-command';

/** The redis-server processes of the cluster launcher: start, identify, stop, by pid. */

/**
 * Every node this process started and that still runs. Should this process exit without stopping its cluster (an
 * uncaught error, process.exit), they are killed by pid on the way out rather than left running on their own.
 */
const LIVE = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of LIVE) child.kill('SIGKILL');
});

export function spawnNode(host: string, port: number, dir: string, nodeTimeoutMs: number): ChildProcess {
  // biome-ignore format: one flag and its value per pair
  const args = [
    '--port', String(port), '--bind', host, '--dir', dir,
    '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(nodeTimeoutMs),
    // A shard without a primary stops only its own slots, not the whole cluster (the default stops every shard).
    '--cluster-require-full-coverage', 'no',
    // Any replica may take over, however long its link was down: a test cluster has no older data anywhere.
    '--cluster-replica-validity-factor', '0',
    // A replica (a new one, one back from a restart) syncs at once; the default waits 5 s for others to join it.
    '--repl-diskless-sync-delay', '0',
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
    // SIGTERM stops at once (the AOF is still flushed) instead of waiting up to 10 s for replicas that are being
    // stopped at the same time to catch up.
    '--shutdown-on-sigterm', 'now',
    '--daemonize', 'no', '--logfile', join(dir, 'redis.log'),
  ];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  child.on('error', () => undefined); // reported by waitForOwnProcess (ENOENT: not installed)
  LIVE.add(child);
  child.once('exit', () => LIVE.delete(child));
  return child;
}

/** Waits until `port` answers as the process we spawned (INFO's process_id is the child's pid). */
export async function waitForOwnProcess(
  host: string,
  port: number,
  child: ChildProcess,
  dir: string,
  deadline: number,
): Promise<void> {
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
    if (spawnError) {
      throw spawnError.message.includes('ENOENT')
        ? new Error('redis-server is not installed (apt-get install -y redis-server)')
        : spawnError;
    }
    if (!isRunning(child)) throw new Error(`redis-server on port ${port} exited: ${logTail(dir)}`);
    const info = await respCommand(host, port, ['INFO', 'server'], 1000).then(infoFields, () => undefined);
    if (info) {
      if (info.get('process_id') === String(child.pid)) return;
      child.kill('SIGKILL');
      throw new Error(`port ${port} answers as another redis-server (pid ${info.get('process_id')}), not ours`);
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer in time`);
    await pause(wait); // start-up poll of a process we just spawned
  }
}

export function isRunning(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/**
 * SIGTERM (SIGKILL at once when `timeoutMs` is 0, else after it); resolves once it has exited, true when it took a
 * SIGKILL after a SIGTERM. The SIGTERM is repeated every 500 ms: a node that is writing its first AOF (a replica
 * just after its sync) refuses a shutdown ("Writing initial AOF, can't exit") and forgets it.
 */
export function stopChild(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (!isRunning(child)) return Promise.resolve(false);
  return new Promise((resolve) => {
    let forced = false;
    const again = setInterval(() => child.kill('SIGTERM'), 500);
    const force = setTimeout(() => {
      forced = timeoutMs > 0;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(force);
      clearInterval(again);
      resolve(forced);
    });
    if (timeoutMs > 0) child.kill('SIGTERM');
    else clearInterval(again);
  });
}

function logTail(dir: string): string {
  try {
    return readFileSync(join(dir, 'redis.log'), 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '(no log)';
  }
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when `port` can be bound on 127.0.0.1 right now. */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * `count` distinct ports whose cluster bus port (+10000) is free too, both below Linux's ephemeral range (from
 * 32768): a bus port in it was once taken by an outgoing connection between the check and the node's start. Random
 * picks, so concurrent launchers (parallel test files) rarely try the same one; a taken one is skipped.
 */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries++) {
    if (tries > 1000) throw new Error('found no free ports for the cluster');
    const port = 10_000 + Math.floor(Math.random() * 12_000);
    if (ports.includes(port) || ports.includes(port + 10_000) || ports.includes(port - 10_000)) continue;
    if ((await canBind(port)) && (await canBind(port + 10_000))) ports.push(port);
  }
  return ports;
}
