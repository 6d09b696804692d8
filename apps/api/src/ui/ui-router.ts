import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { WorkflowEngine } from '@orch/engine';
import { OrchestratorError } from '@orch/errors';
import { Router as createRouter, type RequestHandler, type Response, type Router } from 'express';
import { runGraph } from './run-graph';

export type { RunGraph } from './run-graph';

/** Where the web view is served. */
export const UI_PATH = '/ui';

/**
 * The browser files: plain HTML, CSS and ES modules, no build step. They live in `apps/api/ui/`, outside `src/`,
 * so this same path works from `src/ui` (tests) and from `dist/ui` (the build and the image, which ship the app's
 * directory without its sources).
 */
export const UI_DIR = join(__dirname, '..', '..', 'ui');

const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

/** The page's own files, listed once at start: only these names are ever served from UI_DIR. */
function assetNames(): Set<string> {
  return new Set(readdirSync(UI_DIR).filter((name) => /^[a-z][a-z-]*\.(js|css)$/.test(name)));
}

/**
 * The `yaml` package's browser build (ES modules that import each other by relative path), so the submit page
 * parses YAML as the API does, with line numbers, and no copy of the package is kept here.
 */
function yamlDir(): string {
  return join(dirname(require.resolve('yaml/package.json')), 'browser', 'dist');
}

export interface UiOptions {
  engine: WorkflowEngine;
  /** Authentication and the `read` scope, for the page's data routes. */
  guard: RequestHandler[];
  /** TRACE_URL_TEMPLATE: the run page links a run's trace id through it (`{trace_id}` replaced). */
  traceUrlTemplate?: string;
}

/** The page, with the trace link template in a meta tag when one is set (read once: it never changes). */
function pageHtml(traceUrlTemplate: string | undefined): string {
  const html = readFileSync(join(UI_DIR, 'index.html'), 'utf8');
  if (!traceUrlTemplate) return html;
  const escaped = traceUrlTemplate.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  return html.replace('</head>', `  <meta name="orch-trace-url" content="${escaped}" />\n  </head>`);
}

/**
 * `/ui/`: the web view. Mounted before the API's key check: the page and its scripts hold no data and a browser
 * cannot add an Authorization header to a navigation. Every data call the page makes carries the key it keeps in
 * sessionStorage, including its own two routes under `/ui/api/`.
 */
export function createUiRouter(options: UiOptions): Router {
  const router = createRouter();
  const noStore = { 'cache-control': 'no-cache' };
  const assets = assetNames();
  const yaml = yamlDir();
  const html = pageHtml(options.traceUrlTemplate);
  const page = (_req: unknown, res: Response) => res.set(noStore).type('html').send(html);

  router.get('/', (req, res) => {
    // Without the trailing slash the page's relative links would resolve against `/`.
    if (req.originalUrl === UI_PATH) return res.redirect(301, `${UI_PATH}/`);
    page(req, res);
  });
  // A run page can also be linked as a path; the page reads it from location.pathname.
  router.get('/runs/:id', page);
  router.get('/assets/dagre.min.js', (_req, res) => {
    // The browser build of dagre (graphlib included), straight from the installed package: no CDN, no copy.
    const file = join(dirname(require.resolve('@dagrejs/dagre/package.json')), 'dist', 'dagre.min.js');
    res.type('text/javascript; charset=utf-8');
    // `dotfiles: allow`: pnpm installs packages under node_modules/.pnpm, which send() would otherwise refuse.
    res.sendFile(file, { dotfiles: 'allow', headers: { 'cache-control': 'public, max-age=86400' } });
  });
  router.get(/^\/assets\/yaml\/((?:[a-z][a-z0-9.-]*\/)*[A-Za-z][A-Za-z0-9-]*\.js)$/, (req, res) => {
    const path = (req.params as unknown as Record<string, string>)[0] as string;
    res.type(TYPES.js as string);
    res.sendFile(path, {
      root: yaml,
      dotfiles: 'allow',
      headers: { 'cache-control': 'public, max-age=86400' },
    });
  });
  router.get('/assets/:file', (req, res, next) => {
    const name = req.params.file as string;
    if (!assets.has(name)) return next();
    res.type(TYPES[name.slice(name.lastIndexOf('.') + 1)] as string);
    res.sendFile(join(UI_DIR, name), { headers: noStore });
  });
  router.get('/api/runs/:id/graph', ...options.guard, async (req, res) => {
    res.json(await runGraph(options.engine, req.params.id as string));
  });
  router.get('/api/runs/:id/tasks/:task/items', ...options.guard, async (req, res) => {
    res.json(await options.engine.parallelItems(req.params.id as string, req.params.task as string, req.query));
  });
  // Unknown paths under /ui end here, so they are a 404 with or without a key rather than a 401.
  router.use((req, _res, next) => {
    next(new OrchestratorError('NOT_FOUND', `no page ${req.method} ${UI_PATH}${req.path}`));
  });
  return router;
}
