import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** USER_HZ: /proc reports CPU in clock ticks of 1/100 s on every mainstream kernel build. */
const TICKS_PER_SECOND = 100;

export interface ProcStat {
  pid: number;
  ppid: number;
  /** R, S, D, Z (zombie: exited, not yet waited for), ... */
  state: string;
  /** user + system seconds of the process itself */
  self: number;
  /** user + system seconds of the children it has reaped (a PostgreSQL backend that ended, for instance) */
  reaped: number;
  /** start time in ticks since boot: with the pid, it names one process even after the pid is reused */
  start: number;
}

/** Parses /proc/<pid>/stat; the command (field 2) may hold spaces and parentheses, so fields start after the last ')'. */
export function parseStat(pid: number, text: string): ProcStat {
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(f[i]);
  return {
    pid,
    state: f[0] ?? '?',
    ppid: n(1),
    self: (n(11) + n(12)) / TICKS_PER_SECOND,
    reaped: (n(13) + n(14)) / TICKS_PER_SECOND,
    start: n(19),
  };
}

export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Every process on the machine, by pid. */
export function allStats(): Map<number, ProcStat> {
  const out = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) out.set(stat.pid, stat);
  }
  return out;
}

/** `root` and every process below it, from a snapshot of the process table. */
export function descendants(root: number, stats: Map<number, ProcStat> = allStats()): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const s of stats.values()) {
    const list = children.get(s.ppid) ?? [];
    list.push(s);
    children.set(s.ppid, list);
  }
  const first = stats.get(root);
  if (!first) return [];
  const out: ProcStat[] = [];
  const queue = [first];
  while (queue.length > 0) {
    const next = queue.shift() as ProcStat;
    out.push(next);
    queue.push(...(children.get(next.pid) ?? []));
  }
  return out;
}

/**
 * CPU seconds used so far by the process trees under `roots`: each live process's own time plus what it has reaped,
 * so a child that already exited (and was waited for) still counts.
 */
export function treeCpuSeconds(roots: readonly number[], stats: Map<number, ProcStat> = allStats()): number {
  let total = 0;
  const seen = new Set<number>();
  for (const root of roots) {
    for (const s of descendants(root, stats)) {
      if (seen.has(s.pid)) continue;
      seen.add(s.pid);
      total += s.self + s.reaped;
    }
  }
  return total;
}

/** Inodes of the sockets listening on `port` (IPv4 and IPv6), from /proc/net/tcp{,6}. */
export function listeningInodes(port: number, tables: string[] = readTcpTables()): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of tables) {
    for (const line of table.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; st 0A is LISTEN; the inode is the 10th column
      if (cols.length < 10 || cols[3] !== '0A') continue;
      if (cols[1]?.split(':')[1] === hexPort && cols[9] && cols[9] !== '0') inodes.add(cols[9]);
    }
  }
  return inodes;
}

function readTcpTables(): string[] {
  return ['/proc/net/tcp', '/proc/net/tcp6'].map((file) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  });
}

/** Whether `pid` holds one of the sockets listening on `port`. */
export function holdsListener(pid: number, port: number): boolean {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return false;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1] && inodes.has(match[1])) return true;
    } catch {
      // the descriptor closed while we looked
    }
  }
  return false;
}

/**
 * Throws unless the process listening on `port` is `pid` (or one of its descendants, for servers that hand the
 * socket to a child): a bench must never send its load to a server it did not start.
 */
export function assertListener(pid: number, port: number, what: string): void {
  if (descendants(pid).some((p) => holdsListener(p.pid, port))) return;
  throw new Error(`port ${port} does not belong to ${what} (pid ${pid}): another process answers there`);
}

/** Sends `signal` to each process that is still the one recorded (same pid and start time). */
export function signalProcesses(procs: readonly ProcStat[], signal: NodeJS.Signals): void {
  for (const p of procs) {
    if (readStat(p.pid)?.start !== p.start) continue;
    try {
      process.kill(p.pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Still running: same pid and start time, and not a zombie. */
export function isAlive(p: ProcStat): boolean {
  const now = readStat(p.pid);
  return now !== undefined && now.start === p.start && now.state !== 'Z';
}
