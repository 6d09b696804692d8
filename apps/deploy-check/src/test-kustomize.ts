import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { readYamlDocuments } from './deploy-files';

// Parsed manifests: read by deep paths and asserted; a static type adds nothing.
// biome-ignore lint/suspicious/noExplicitAny: see above
export type Manifest = any;

/** One kustomization file's entries that name other files, with where they point. */
export interface KustomizationReference {
  kustomization: string;
  field: 'resources' | 'components' | 'patches' | 'configMapGenerator';
  entry: string;
  path: string;
}

function readKustomization(dir: string): Manifest {
  const file = join(dir, 'kustomization.yaml');
  if (!existsSync(file)) throw new Error(`${dir}: no kustomization.yaml`);
  return parse(readFileSync(file, 'utf8'));
}

/** Every file or directory a kustomization names, and those of the kustomizations it names, recursively. */
export function kustomizationReferences(dir: string, seen = new Set<string>()): KustomizationReference[] {
  const root = resolve(dir);
  if (seen.has(root)) return [];
  seen.add(root);
  const k = readKustomization(root);
  const kustomization = join(root, 'kustomization.yaml');
  const refs: KustomizationReference[] = [
    ...((k.resources ?? []) as string[]).map((entry) => ({ field: 'resources' as const, entry })),
    ...((k.components ?? []) as string[]).map((entry) => ({ field: 'components' as const, entry })),
    ...((k.patches ?? []) as { path: string }[]).map((p) => ({ field: 'patches' as const, entry: p.path })),
    ...((k.configMapGenerator ?? []) as { files?: string[] }[]).flatMap((g) =>
      (g.files ?? []).map((entry) => ({ field: 'configMapGenerator' as const, entry })),
    ),
  ].map((r) => ({ ...r, kustomization, path: resolve(root, r.entry.split('=').at(-1) as string) }));
  const nested = refs
    .filter((r) => (r.field === 'resources' || r.field === 'components') && isDirectory(r.path))
    .flatMap((r) => kustomizationReferences(r.path, seen));
  return [...refs, ...nested];
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/**
 * Strategic merge as far as these manifests need it: maps merge key by key, `null` deletes a key, lists of
 * objects with a `name` (containers, env, ports, volumes) merge item by item, other lists are replaced.
 */
export function strategicMerge(target: Manifest, patch: Manifest): Manifest {
  if (Array.isArray(patch)) {
    const named = patch.every((p) => p && typeof p === 'object' && 'name' in p);
    if (!named || !Array.isArray(target)) return structuredClone(patch);
    const merged = target.map((t) => structuredClone(t));
    for (const item of patch) {
      const at = merged.findIndex((t) => t?.name === item.name);
      if (at === -1) merged.push(structuredClone(item));
      else merged[at] = strategicMerge(merged[at], item);
    }
    return merged;
  }
  if (patch && typeof patch === 'object') {
    const merged = target && typeof target === 'object' && !Array.isArray(target) ? structuredClone(target) : {};
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete merged[key];
      else merged[key] = strategicMerge(merged[key], value);
    }
    return merged;
  }
  return patch;
}

const identity = (doc: Manifest) => `${doc.kind}/${doc.metadata?.name}`;

/**
 * What `kubectl kustomize <dir>` would produce for the features these overlays use (resources, components,
 * patches by path, configMapGenerator from files), without kustomize: the test machine need not have it. Generated
 * ConfigMaps keep their plain names (kustomize appends a content hash and renames the references alike).
 * Throws when a patch has no target, which kustomize refuses too.
 */
export function buildKustomization(dir: string, docs: Manifest[] = []): Manifest[] {
  const root = resolve(dir);
  const k = readKustomization(root);
  let out = docs.map((d) => structuredClone(d));
  for (const entry of (k.resources ?? []) as string[]) {
    const path = resolve(root, entry);
    out.push(...(isDirectory(path) ? buildKustomization(path) : (readYamlDocuments(path) as Manifest[])));
  }
  for (const generator of (k.configMapGenerator ?? []) as { name: string; files?: string[] }[]) {
    const data = Object.fromEntries(
      (generator.files ?? []).map((entry) => {
        const [key, file] = entry.includes('=') ? (entry.split('=') as [string, string]) : [basename(entry), entry];
        return [key, readFileSync(resolve(root, file), 'utf8')];
      }),
    );
    out.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data });
  }
  // A component's resources and patches apply to what the including kustomization has gathered so far.
  for (const entry of (k.components ?? []) as string[]) out = buildKustomization(resolve(root, entry), out);
  for (const { path } of (k.patches ?? []) as { path: string }[]) {
    for (const patch of readYamlDocuments(resolve(root, path)) as Manifest[]) {
      const at = out.findIndex((d) => identity(d) === identity(patch));
      if (at === -1) throw new Error(`${join(root, path)}: no ${identity(patch)} to patch`);
      out[at] = strategicMerge(out[at], patch);
    }
  }
  const ids = out.map(identity);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new Error(`${root}: ${duplicate} twice`);
  return out;
}
