import { readdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { type TemplateDefinition, validateTemplate } from '@orch/core';
import { type ErrorDetail, NotFoundError, OrchestratorError } from '@orch/errors';
import { parseDocument } from './parse-document';

export interface TemplateProblem {
  path: string;
  errors: ErrorDetail[];
}

export interface TemplateSummary {
  id: string;
  /** Every version the catalog holds, newest first. */
  versions: string[];
  name: string;
  description?: string;
  category?: string;
  version?: string;
  tasks: number;
  variables: { name: string; type?: string; required: boolean; description?: string; default?: unknown }[];
  path: string;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

interface Entry {
  template: TemplateDefinition;
  path: string;
}

const versionOf = (e: Entry) => e.template.version ?? '0';

/** Compares versions by dot-separated parts, numerically where both parts are numbers: 1.10 is newer than 1.9. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const diff = /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : x.localeCompare(y);
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * The templates of one directory, each validated when loaded, every version kept: `get('id')` is the newest,
 * `get('id@1.2')` a pinned one. A broken file is kept out of the catalog and listed in `problems` with its path and
 * every error; it never stops the process.
 */
export class TemplateCatalog {
  private constructor(
    readonly dir: string,
    /** id -> its versions, newest first. */
    private readonly templates: Map<string, Entry[]>,
    readonly problems: TemplateProblem[],
  ) {}

  static async load(dir: string): Promise<TemplateCatalog> {
    const root = resolve(dir);
    const templates = new Map<string, Entry[]>();
    const problems: TemplateProblem[] = [];
    let names: string[];
    try {
      names = (await readdir(root)).filter((n) => EXTENSIONS.has(extname(n))).sort();
    } catch (error) {
      const message = `cannot read template directory: ${(error as Error).message}`;
      problems.push({ path: root, errors: [{ pointer: '', message }] });
      return new TemplateCatalog(root, templates, problems);
    }
    for (const name of names) {
      const path = join(root, name);
      const loaded = await loadTemplateFile(path);
      if (!loaded.template) {
        problems.push({ path, errors: loaded.errors });
        continue;
      }
      const entry = { template: loaded.template, path };
      const versions = templates.get(loaded.template.id) ?? [];
      const clash = versions.find((v) => versionOf(v) === versionOf(entry));
      if (clash) {
        const message = `template '${loaded.template.id}' version ${versionOf(entry)} is already defined in ${clash.path}`;
        problems.push({ path, errors: [{ pointer: '/version', message }] });
        continue;
      }
      versions.push(entry);
      versions.sort((a, b) => compareVersions(versionOf(b), versionOf(a)));
      templates.set(loaded.template.id, versions);
    }
    return new TemplateCatalog(root, templates, problems);
  }

  /** Number of template ids (not versions). */
  get size(): number {
    return this.templates.size;
  }

  has(reference: string): boolean {
    return this.find(reference) !== undefined;
  }

  /** `id` (the newest version) or `id@version`; throws NotFoundError naming the versions there are. */
  get(reference: string): TemplateDefinition {
    const entry = this.find(reference);
    if (entry) return entry.template;
    const at = reference.lastIndexOf('@');
    const versions = at > 0 ? this.versions(reference.slice(0, at)) : [];
    if (versions.length > 0) {
      const id = reference.slice(0, at);
      throw new OrchestratorError(
        'NOT_FOUND',
        `template '${id}' has no version ${reference.slice(at + 1)}; versions: ${versions.join(', ')}`,
      );
    }
    throw new NotFoundError('template', reference);
  }

  /** Versions of a template, newest first; empty when the id is unknown. */
  versions(id: string): string[] {
    return (this.templates.get(id) ?? []).map(versionOf);
  }

  private find(reference: string): Entry | undefined {
    const at = reference.lastIndexOf('@');
    if (at <= 0) return this.templates.get(reference)?.[0];
    const version = reference.slice(at + 1);
    return this.templates.get(reference.slice(0, at))?.find((e) => versionOf(e) === version);
  }

  /** The newest version of each template, with the list of all its versions. */
  list(): TemplateSummary[] {
    return [...this.templates.values()].map((entries) => summary(entries[0] as Entry, entries));
  }

  /**
   * Writes a template through the API without ever replacing a file of the catalog directory (the built-in templates
   * are its files): a new id gets `<id>.yaml`; an existing one, with `overwrite`, a new version newer than every
   * version there is, in `<id>@<version>.yaml`, so pinned references (`id@1.0`) keep their meaning. Without
   * `overwrite` an existing id is a CONFLICT. `render` makes the file's text for the version chosen.
   */
  async save(
    id: string,
    render: (version: string) => string,
    options: { overwrite?: boolean } = {},
  ): Promise<{ file: string; version: string }> {
    const existing = this.versions(id);
    if (existing.length > 0 && !options.overwrite) {
      throw new OrchestratorError(
        'CONFLICT',
        `template '${id}' already exists; send overwrite: true to add a new version of it (catalog files are never replaced)`,
      );
    }
    const version = existing.length > 0 ? nextVersion(existing) : '1.0';
    const file = existing.length > 0 ? `${id}@${version}.yaml` : `${id}.yaml`;
    try {
      await writeFile(join(this.dir, file), render(version), { encoding: 'utf8', flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      throw new OrchestratorError('CONFLICT', `the catalog already has a file named ${file}; it is never replaced`, {
        cause: error,
      });
    }
    return { file, version };
  }

  /** Every version of one template, newest first. */
  listVersions(id: string): TemplateSummary[] {
    const entries = this.templates.get(id);
    if (!entries) throw new NotFoundError('template', id);
    return entries.map((e) => summary(e, entries));
  }
}

/** One past the newest: the last numeric part counts up (1.0 -> 1.1, 2 -> 3); a version ending otherwise gets `.1`. */
export function nextVersion(versions: string[]): string {
  const newest = [...versions].sort((a, b) => compareVersions(b, a))[0] ?? '0';
  const parts = newest.split('.');
  const last = parts.at(-1) as string;
  let next = /^\d+$/.test(last) ? [...parts.slice(0, -1), String(Number(last) + 1)].join('.') : `${newest}.1`;
  while (versions.includes(next)) next = `${next}.1`;
  return next;
}

function summary({ template: t, path }: Entry, all: Entry[]): TemplateSummary {
  return {
    id: t.id,
    versions: all.map(versionOf),
    name: t.name,
    description: t.description,
    category: t.category,
    version: t.version,
    tasks: t.workflow.tasks.length,
    variables: (t.variables ?? []).map((v) => ({
      name: v.name,
      type: v.type,
      required: v.required === true,
      description: v.description,
      default: v.default,
    })),
    path,
  };
}

/** Reads, parses and validates one template file. */
export async function loadTemplateFile(
  path: string,
): Promise<{ template?: TemplateDefinition; errors: ErrorDetail[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { errors: [{ pointer: '', message: `cannot read file: ${(error as Error).message}` }] };
  }
  const parsed = parseDocument(text);
  if (parsed.errors.length > 0) return { errors: parsed.errors };
  const { errors } = validateTemplate(parsed.value);
  return errors.length > 0 ? { errors } : { template: parsed.value as TemplateDefinition, errors: [] };
}
