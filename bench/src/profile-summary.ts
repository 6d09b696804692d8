/**
 * Summarises V8 .cpuprofile files (from `node --cpu-prof`): self time by function and by area (engine, BullMQ,
 * ioredis, Node internals, GC, idle). `node bench/dist/profile-summary.js <dir or file>...`
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  areas: [string, number][];
  functions: [string, number][];
}

function area(url: string, name: string): string {
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'gc';
  if (name === '(program)') return 'program (native, not JS)';
  if (url.includes('/bullmq/')) return 'bullmq';
  if (url.includes('/ioredis/') || url.includes('/redis-parser/') || url.includes('/@ioredis/')) return 'ioredis';
  if (url.includes('/packages/engine/')) return '@orch/engine';
  if (url.includes('/packages/expressions/') || url.includes('/jsep/')) return '@orch/expressions';
  if (url.includes('/packages/') || url.includes('/apps/')) return 'other @orch';
  if (url.includes('/node_modules/')) return 'other dependencies';
  if (url.startsWith('node:') || url === '') return 'node internals';
  return 'other';
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const a = area(url, name);
    areas.set(a, (areas.get(a) ?? 0) + us);
    if (a !== 'idle') {
      const where = url
        ? `${url.replace(/^.*node_modules\//, '').replace(/^.*\/work\/main\//, '')}:${lineNumber + 1}`
        : '';
      const key = where ? `${name} ${where}` : name;
      functions.set(key, (functions.get(key) ?? 0) + us);
    }
    total += us;
  }
  const ms = (entries: Map<string, number>) =>
    [...entries.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, us]): [string, number] => [k, Math.round(us / 100) / 10]);
  return {
    file: basename(file),
    totalMs: Math.round(total / 1000),
    areas: ms(areas),
    functions: ms(functions).slice(0, top),
  };
}

export function profileFiles(paths: string[]): string[] {
  return paths.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => join(p, f))
      : [p],
  );
}

export function renderProfile(s: ProfileSummary): string {
  const busy = s.areas.filter(([a]) => a !== 'idle').reduce((sum, [, v]) => sum + v, 0);
  const lines = [`${s.file}: ${s.totalMs} ms sampled, ${Math.round(busy)} ms busy`];
  lines.push(`  by area: ${s.areas.map(([a, v]) => `${a} ${Math.round(v)} ms`).join(', ')}`);
  for (const [f, v] of s.functions) lines.push(`  ${String(v).padStart(8)} ms  ${f}`);
  return lines.join('\n');
}

if (require.main === module) {
  const files = profileFiles(process.argv.slice(2));
  if (files.length === 0) {
    process.stderr.write('usage: node bench/dist/profile-summary.js <.cpuprofile file or directory>...\n');
    process.exit(2);
  }
  for (const file of files) process.stdout.write(`${renderProfile(summarizeProfile(file))}\n\n`);
}
