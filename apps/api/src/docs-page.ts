import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Router as createRouter, type Router } from 'express';

/** Where the API docs page is served. */
export const DOCS_PATH = '/docs';

/** The swagger-ui-dist files the page loads; served from the installed package, never from a CDN. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Orchestrator API</title>
    <link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css" />
    <link rel="icon" type="image/png" href="${DOCS_PATH}/favicon-32x32.png" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
    <script src="${DOCS_PATH}/swagger-ui-standalone-preset.js"></script>
    <script src="${DOCS_PATH}/init.js"></script>
  </body>
</html>
`;

/**
 * `/docs`: Swagger UI rendering the OpenAPI document. The document is embedded in a script file (the CSP allows no
 * inline script), so the page needs no second authenticated fetch when API keys are on.
 */
export function createDocsRouter(openapi: object): Router {
  const dir = dirname(require.resolve('swagger-ui-dist/package.json'));
  const init = `window.ui = SwaggerUIBundle({
  spec: ${JSON.stringify(openapi).replace(/</g, '\\u003c')},
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout'
});
`;
  const files = new Map<string, { type: string; body: Buffer | string }>([
    ['init.js', { type: 'text/javascript; charset=utf-8', body: init }],
  ]);
  const router = createRouter();
  router.get('/', (_req, res) => {
    res.type('html').send(PAGE);
  });
  router.get('/:file', (req, res, next) => {
    const name = req.params.file as string;
    let file = files.get(name);
    if (!file && ASSETS[name]) {
      // Read on first use: the bundle is 1.5 MB and most processes never serve it.
      file = { type: ASSETS[name] as string, body: readFileSync(join(dir, name)) };
      files.set(name, file);
    }
    if (!file) return next();
    res.setHeader('cache-control', 'public, max-age=3600');
    res.type(file.type).send(file.body);
  });
  return router;
}
