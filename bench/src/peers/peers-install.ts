import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** bench/peers: the peers' own package.json, lockfile and node_modules (bench/dist/peers or bench/src/peers -> ../../peers). */
export const PEERS_DIR = join(__dirname, '..', '..', 'peers');

interface Manifest {
  dependencies: Record<string, string>;
}

/** The pinned packages that are missing or at another version in bench/peers/node_modules. */
export function missingPackages(dir = PEERS_DIR): string[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
  const wanted = { ...manifest.dependencies };
  // The server's binary comes in a per-platform optional package.
  if (process.platform === 'linux' && process.arch === 'x64')
    wanted['@restatedev/restate-server-linux-x64'] = wanted['@restatedev/restate-server'] ?? '';
  return Object.entries(wanted)
    .filter(([name, version]) => {
      const file = join(dir, 'node_modules', name, 'package.json');
      if (!existsSync(file)) return true;
      return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version !== version;
    })
    .map(([name, version]) => `${name}@${version}`);
}

/**
 * Installs the peers' pinned packages from bench/peers/package-lock.json (`npm ci`, without install scripts: the
 * Restate server's telemetry helper would run one) unless they are already there. Nothing outside bench/peers changes.
 */
export async function ensurePeersInstalled(log: (m: string) => void, dir = PEERS_DIR): Promise<void> {
  const missing = missingPackages(dir);
  if (missing.length === 0) return;
  log(`installing the peers into ${dir}/node_modules (npm ci): ${missing.join(', ')}`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const child = spawn(npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    env: { ...process.env, SCARF_ANALYTICS: 'false' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`npm ci in ${dir} failed with ${code}`);
  const still = missingPackages(dir);
  if (still.length > 0) throw new Error(`npm ci in ${dir} did not install ${still.join(', ')}`);
}
