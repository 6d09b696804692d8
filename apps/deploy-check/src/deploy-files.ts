import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/** The repository root, from src/ (tests) and from dist/ alike. */
export const REPO_ROOT = join(__dirname, '..', '..', '..');

/**
 * The workspace's projects as directories relative to `root` (e.g. `apps/api`), sorted: every directory matched by
 * a `packages` entry of pnpm-workspace.yaml that has a package.json. Entries are a directory or `dir/*`, which is
 * all this workspace uses; anything else is refused rather than half-understood.
 */
export function workspaceProjects(root: string): string[] {
  const manifest = parse(readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')) as { packages?: string[] };
  const projects: string[] = [];
  for (const entry of manifest.packages ?? []) {
    if (entry.endsWith('/*') && !entry.slice(0, -2).includes('*')) {
      const parent = entry.slice(0, -2);
      for (const name of readdirSync(join(root, parent), { withFileTypes: true })) {
        if (name.isDirectory() && existsSync(join(root, parent, name.name, 'package.json')))
          projects.push(`${parent}/${name.name}`);
      }
    } else if (!entry.includes('*') && !entry.startsWith('!')) {
      if (existsSync(join(root, entry, 'package.json'))) projects.push(entry);
    } else {
      throw new Error(`pnpm-workspace.yaml: unsupported packages pattern '${entry}'`);
    }
  }
  return projects.sort();
}

/** One Dockerfile instruction, continuation lines joined, with the stage it belongs to. */
export interface DockerInstruction {
  /** Upper-cased: FROM, RUN, COPY, ... */
  keyword: string;
  /** Everything after the keyword, on one line. */
  args: string;
  /** The `AS` name of the enclosing stage, or its index when unnamed; '' before the first FROM (ARG). */
  stage: string;
  line: number;
}

/** Splits a Dockerfile into instructions; enough of the syntax for the files this repository writes. */
export function parseDockerfile(text: string): DockerInstruction[] {
  const instructions: DockerInstruction[] = [];
  let stage = '';
  let stages = 0;
  let pending: { text: string; line: number } | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const trimmed = raw.trim();
    if (pending === undefined && (trimmed === '' || trimmed.startsWith('#'))) continue;
    if (pending !== undefined && trimmed.startsWith('#')) continue; // comments inside a continued instruction
    const continued = trimmed.endsWith('\\');
    const part = continued ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending ? { text: `${pending.text} ${part}`, line: pending.line } : { text: part, line: i + 1 };
    if (continued) continue;
    const match = /^(\S+)\s*(.*)$/.exec(pending.text);
    if (match) {
      const keyword = (match[1] as string).toUpperCase();
      const args = (match[2] as string).trim();
      if (keyword === 'FROM') {
        const as = /\sAS\s+(\S+)\s*$/i.exec(args);
        stage = as ? (as[1] as string) : String(stages);
        stages++;
      }
      instructions.push({ keyword, args, stage, line: pending.line });
    }
    pending = undefined;
  }
  return instructions;
}

/**
 * Splits a shell-form command into words: whitespace-separated, with single- and double-quoted parts unquoted.
 * No expansion: Dockerfile RUN lines here use none.
 */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  let current = '';
  let last = -1;
  for (let m = pattern.exec(command); m !== null; m = pattern.exec(command)) {
    const piece = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3] ?? '');
    // Adjacent pieces without whitespace between them belong to one word (e.g. --filter="a").
    if (last === m.index) current += piece;
    else {
      if (last !== -1) words.push(current);
      current = piece;
    }
    last = m.index + m[0].length;
  }
  if (last !== -1) words.push(current);
  return words;
}

/**
 * Compose's variable substitution with an empty environment: `${NAME:-default}` and `${NAME-default}` become the
 * default, `${NAME}` and `$NAME` become '', `$$` becomes `$`. What a file means when nobody sets anything.
 */
export function interpolateDefaults(value: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole: string, _braced?: string, fallback?: string) => (whole === '$$' ? '$' : (fallback ?? '')),
  );
}

/** Every YAML document of a file (Kubernetes manifests hold several), parsed; merge keys (`<<`) resolved. */
export function readYamlDocuments(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8'), { merge: true }).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS();
  });
}
