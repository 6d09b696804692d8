import { readdir, readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { type TemplateDefinition, validateTemplate } from '@orch/core';
import { type ErrorDetail, NotFoundError } from '@orch/errors';
import { parseDocument } from './parse-document';

export interface TemplateProblem {
  path: string;
  errors: ErrorDetail[];
}

export interface TemplateSummary {
  id: string;
  name: string;
  description?: string;
  category?: string;
  version?: string;
  tasks: number;
  variables: { name: string; type?: string; required: boolean; description?: string; default?: unknown }[];
  path: string;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/**
 * The templates of one directory, each validated when loaded. A broken file is kept out of the catalog and listed in
 * `problems` with its path and every error; it never stops the process.
 */
export class TemplateCatalog {
  private constructor(
    readonly dir: string,
    private readonly templates: Map<string, { template: TemplateDefinition; path: string }>,
    readonly problems: TemplateProblem[],
  ) {}

  static async load(dir: string): Promise<TemplateCatalog> {
    const root = resolve(dir);
    const templates = new Map<string, { template: TemplateDefinition; path: string }>();
    const problems: TemplateProblem[] = [];
    let names: string[];
    try {
      names = (await readdir(root)).filter((n) => EXTENSIONS.has(extname(n))).sort();
    } catch (error) {
      problems.push({
        path: root,
        errors: [{ pointer: '', message: `cannot read template directory: ${(error as Error).message}` }],
      });
      return new TemplateCatalog(root, templates, problems);
    }
    for (const name of names) {
      const path = join(root, name);
      const loaded = await loadTemplateFile(path);
      if (!loaded.template) {
        problems.push({ path, errors: loaded.errors });
        continue;
      }
      const existing = templates.get(loaded.template.id);
      if (existing) {
        problems.push({
          path,
          errors: [
            { pointer: '/id', message: `template id '${loaded.template.id}' is already used by ${existing.path}` },
          ],
        });
        continue;
      }
      templates.set(loaded.template.id, { template: loaded.template, path });
    }
    return new TemplateCatalog(root, templates, problems);
  }

  get size(): number {
    return this.templates.size;
  }

  has(id: string): boolean {
    return this.templates.has(id);
  }

  get(id: string): TemplateDefinition {
    const entry = this.templates.get(id);
    if (!entry) throw new NotFoundError('template', id);
    return entry.template;
  }

  list(): TemplateSummary[] {
    return [...this.templates.values()].map(({ template: t, path }) => ({
      id: t.id,
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
    }));
  }
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
