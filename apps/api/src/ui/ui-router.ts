import { dirname, join } from 'node:path';
import type { WorkflowEngine } from '@orch/engine';
import { OrchestratorError } from '@orch/errors';
import { Router as createRouter, type RequestHandler, type Router } from 'express';

/** Where the web view is served. */
export const UI_PATH = '/ui';

/**
 * The browser files: plain HTML, CSS and ES modules, no build step. They live in `apps/api/ui/`, outside `src/`,
 * so this same path works from `src/ui` (tests) and from `dist/ui` (the build and the image, which ship the app's
 * directory without its sources).
 */
export const UI_DIR = join(__dirname, '..', '..', 'ui');

const FILES: Record<string, string> = {
  'dom.js': 'text/javascript; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'dag-view.js': 'text/javascript; charset=utf-8',
  'runs-page.js': 'text/javascript; charset=utf-8',
  'run-page.js': 'text/javascript; charset=utf-8',
  'task-panel.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/** What the run page draws: the task graph, which the run record (statuses, outputs) does not carry. */
export interface RunGraph {
  execution_id: string;
  workflow: { id: string; name?: string };
  tasks: {
    id: string;
    name?: string;
    type: string;
    depends_on: string[];
    condition?: string;
    /** For tasks on a branch of a condition task: which branch. */
    branches?: Record<string, 'on_success' | 'on_failure'>;
  }[];
  /** Set on a sub-workflow: the run and task that started it. */
  parent?: { execution_id: string; task: string };
}

export interface UiOptions {
  engine: WorkflowEngine;
  /** Authentication and the `read` scope, for the page's one data route. */
  guard: RequestHandler[];
}

/**
 * `/ui/`: the list of runs and the run page. Mounted before the API's key check: the page and its scripts hold no
 * data and a browser cannot add an Authorization header to a navigation. Every data call the page makes carries
 * the key it keeps in sessionStorage, including `GET /ui/api/runs/{id}/graph`, the one route of its own.
 */
export function createUiRouter(options: UiOptions): Router {
  const router = createRouter();
  const noStore = { 'cache-control': 'no-cache' };
  const page = (_req: unknown, res: { sendFile: (p: string, o: object) => void }) =>
    res.sendFile(join(UI_DIR, 'index.html'), { headers: noStore });

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
  router.get('/assets/:file', (req, res, next) => {
    const type = FILES[req.params.file as string];
    if (!type) return next();
    res.type(type);
    res.sendFile(join(UI_DIR, req.params.file as string), { headers: noStore });
  });
  router.get('/api/runs/:id/graph', ...options.guard, async (req, res) => {
    res.json(await runGraph(options.engine, req.params.id as string));
  });
  // Unknown paths under /ui end here, so they are a 404 with or without a key rather than a 401.
  router.use((req, _res, next) => {
    next(new OrchestratorError('NOT_FOUND', `no page ${req.method} ${UI_PATH}${req.path}`));
  });
  return router;
}

export async function runGraph(engine: WorkflowEngine, id: string): Promise<RunGraph> {
  // Checked first so that only a missing run is a 404; any other failure (Redis down) keeps its own status.
  const def = await engine.definition(id);
  const graph: RunGraph = {
    execution_id: id,
    workflow: { id: def.workflow.id, ...(def.workflow.name ? { name: def.workflow.name } : {}) },
    tasks: def.workflow.tasks.map((t) => {
      const compiled = def.tasks[t.id];
      return {
        id: t.id,
        ...(t.name ? { name: t.name } : {}),
        type: t.type,
        depends_on: compiled?.deps ?? t.depends_on ?? [],
        ...(t.condition ? { condition: t.condition } : {}),
        ...(compiled?.branches ? { branches: compiled.branches } : {}),
      };
    }),
  };
  if (def.parent) graph.parent = { execution_id: def.parent.executionId, task: def.parent.taskId };
  return graph;
}
