// Builds packages/worker-sdk/package/, the directory `npm pack` turns into the publishable @orchestrator/worker.
// The SDK's code imports private workspace packages (@orch/*) that are never published, so they are inlined: the
// JS by esbuild, the types by dts-bundle-generator. What the inlined code imports from npm stays external and is
// listed as a dependency at the exact version the workspace runs and tests with.
// Usage: node build-package.mjs (or pnpm --filter @orchestrator/worker build:package)
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDtsBundle } from 'dts-bundle-generator';
import { build } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../..');
const OUT = join(HERE, 'package');
const manifest = JSON.parse(readFileSync(join(HERE, 'package.json'), 'utf8'));

function fail(message) {
  console.error(`build-package: ${message}`);
  process.exit(1);
}

/** `@scope/name/sub/path` -> `@scope/name`, `name/sub` -> `name`. */
const packageName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

/** The package.json of `name` as Node would find it from `dir` (node_modules up the tree; pnpm links there). */
function installedManifest(name, dir) {
  for (let at = dir; ; at = dirname(at)) {
    const file = join(at, 'node_modules', name, 'package.json');
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
    if (dirname(at) === at) return undefined;
  }
}

// @orch/x is bundled from its TypeScript source (as jest maps it), never from a possibly stale dist/; every other
// bare import stays a require() of the user's installed copy.
const workspaceSources = {
  name: 'workspace-sources',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@orch/')) {
        const [, name, ...rest] = args.path.split('/');
        if (rest.length > 0) fail(`${args.importer} imports ${args.path}: only package roots can be inlined`);
        const source = join(ROOT, 'packages', name, 'src/index.ts');
        if (!existsSync(source)) fail(`${args.importer} imports ${args.path}, which is no workspace package`);
        return { path: source };
      }
      return { path: args.path, external: true };
    });
  },
};

// Packages read their own version with require('../package.json'): the bundle gets that version only, not the
// whole workspace manifest with its @orch/* dependency names.
const versionOnly = {
  name: 'version-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/package\.json$/ }, (args) => ({
      path: join(args.resolveDir, '..', 'package.json'),
      namespace: 'version-only',
    }));
    b.onLoad({ filter: /.*/, namespace: 'version-only' }, (args) => ({
      contents: JSON.stringify({ version: JSON.parse(readFileSync(args.path, 'utf8')).version }),
      loader: 'json',
    }));
  },
};

/** Bundles src/index.ts to dist/index.js; returns the npm packages it requires, each with the importer's dir. */
async function bundleJs() {
  const result = await build({
    entryPoints: [join(HERE, 'src/index.ts')],
    outfile: join(OUT, 'dist/index.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    metafile: true,
    absWorkingDir: ROOT,
    logLevel: 'warning',
    plugins: [versionOnly, workspaceSources],
  });
  if (result.errors.length > 0) fail('esbuild failed');
  const required = new Map();
  for (const [input, { imports }] of Object.entries(result.metafile.inputs)) {
    for (const imported of imports) {
      if (!imported.external || isBuiltin(imported.path)) continue;
      const name = packageName(imported.path);
      if (!required.has(name)) required.set(name, new Set());
      required.get(name).add(dirname(join(ROOT, input)));
    }
  }
  // Inputs are paths relative to ROOT (absWorkingDir): packages/<name>/src/...
  const inputs = Object.keys(result.metafile.inputs).filter((i) => !i.startsWith('version-only:'));
  const bundled = [...new Set(inputs.map((i) => i.split('/').slice(0, 2).join('/')))];
  return { required, bundled };
}

/** Bundles the declarations into dist/index.d.ts; returns the npm packages it imports types from. */
function bundleTypes() {
  // Types come from the @orch/* packages' declarations in dist/, which tsc -b (re)builds first. They are files
  // outside node_modules once pnpm's links are followed, so dts-bundle-generator inlines them; npm packages stay
  // imports.
  const [dts] = generateDtsBundle(
    [{ filePath: join(HERE, 'src/index.ts'), output: { noBanner: true, exportReferencedTypes: false } }],
    {
      preferredConfigPath: join(HERE, 'tsconfig.json'),
    },
  );
  writeFileSync(join(OUT, 'dist/index.d.ts'), dts);
  const imported = new Set();
  for (const m of dts.matchAll(/(?:from\s+|import\(\s*)['"]([^'"]+)['"]/g)) {
    if (!m[1].startsWith('.') && !isBuiltin(m[1])) imported.add(packageName(m[1]));
  }
  return imported;
}

/** Exact installed versions; one package at two versions across the inlined code cannot be one dependency. */
function exactVersions(required) {
  const dependencies = {};
  for (const [name, dirs] of [...required].sort(([a], [b]) => a.localeCompare(b))) {
    const versions = new Set([...dirs].map((dir) => installedManifest(name, dir)?.version));
    if (versions.has(undefined)) fail(`${name} is imported but not installed where its importer would find it`);
    if (versions.size > 1) fail(`${name} resolves to several versions (${[...versions].join(', ')})`);
    dependencies[name] = [...versions][0];
  }
  return dependencies;
}

/** The manifest npm publishes: no workspace protocol, no devDependencies, no scripts. */
function packageManifest(dependencies) {
  return {
    name: manifest.name,
    version: manifest.version,
    description: manifest.description,
    license: manifest.license,
    main: 'dist/index.js',
    types: 'dist/index.d.ts',
    files: ['dist', 'lua'],
    engines: { node: '>=20.11' },
    dependencies,
  };
}

/** Fails when any shipped text still names a private package: it would not resolve for a user. */
function assertNoPrivateReferences(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const text = readFileSync(file, 'utf8');
    const at = text.indexOf('@orch/');
    if (at >= 0) fail(`${relative(HERE, file)} still names a private package: ...${text.slice(at - 60, at + 60)}...`);
  }
}

async function main() {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(join(OUT, 'dist'), { recursive: true });
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', HERE], { stdio: 'inherit' });

  const { required, bundled } = await bundleJs();
  const imported = bundleTypes();
  // A type-only import is erased from the JS but the declarations still need its package: look it up from the
  // inlined packages' directories.
  const packageDirs = bundled.map((dir) => join(ROOT, dir));
  for (const name of imported) {
    if (!required.has(name)) required.set(name, new Set(packageDirs.filter((d) => installedManifest(name, d))));
  }
  const dependencies = exactVersions(required);

  // The engine reads its Lua scripts from `${__dirname}/../lua`: beside dist/ here as in packages/engine.
  mkdirSync(join(OUT, 'lua'));
  for (const file of readdirSync(join(ROOT, 'packages/engine/lua'))) {
    if (file.endsWith('.lua')) copyFileSync(join(ROOT, 'packages/engine/lua', file), join(OUT, 'lua', file));
  }
  copyFileSync(join(ROOT, 'LICENSE'), join(OUT, 'LICENSE'));
  copyFileSync(join(HERE, 'package-readme.md'), join(OUT, 'README.md'));
  const pkg = packageManifest(dependencies);
  writeFileSync(join(OUT, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);

  assertNoPrivateReferences(OUT);
  for (const [name, version] of Object.entries(dependencies)) {
    if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version)) fail(`dependency ${name}@${version} is not an exact version`);
  }
  console.log(`build-package: ${relative(process.cwd(), OUT) || '.'} (inlined ${bundled.join(', ')})`);
  console.log(
    `build-package: dependencies ${Object.entries(dependencies)
      .map(([n, v]) => `${n}@${v}`)
      .join(', ')}`,
  );
}

await main();
