// @ts-check
import { ApiError, getKey, setKey } from './api.js';
import { clear, h } from './dom.js';
import { runPage } from './run-page.js';
import { runsPage } from './runs-page.js';
import { schedulesPage } from './schedules-page.js';
import { submitPage } from './submit-page.js';
import { templatePage } from './template-page.js';
import { templatesPage } from './templates-page.js';
import { workersPage } from './workers-page.js';

/**
 * The page's router: `#/` and `#/runs?status=…` list runs, `#/runs/<id>` (or the path `/ui/runs/<id>`) shows one,
 * `#/templates` and `#/templates/<id>` the catalog and a template's run form, `#/submit` an inline workflow,
 * `#/schedules` the schedules, `#/workers` the workers. A 401 from any call opens the API key dialog; the key is then kept in sessionStorage
 * and the page reloads its view.
 */

const view = /** @type {HTMLElement} */ (document.getElementById('view'));
const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('key-dialog'));
const keyInput = /** @type {HTMLInputElement} */ (document.getElementById('key-input'));
const keyReason = /** @type {HTMLElement} */ (document.getElementById('key-reason'));

/** @type {(() => void) | undefined} */
let dispose;

/** @param {unknown} error */
function onError(error) {
  if (error instanceof ApiError && error.status === 401) {
    askKey(getKey() ? 'The API key was refused; enter another.' : 'This server needs an API key.');
    return;
  }
  const text = error instanceof ApiError ? error.describe() : String(error);
  view.prepend(h('p', { class: 'alert', role: 'alert' }, text));
}

/** @param {string} reason */
function askKey(reason) {
  // Calls that fail while the dialog is open (the list refreshes itself) must not wipe what is being typed.
  if (dialog.open) return;
  keyReason.textContent = `${reason} It is kept in this tab only (sessionStorage).`;
  keyInput.value = '';
  dialog.showModal();
}

dialog.addEventListener('close', () => {
  if (dialog.returnValue === 'save') setKey(keyInput.value.trim());
  if (dialog.returnValue === 'forget') setKey('');
  route();
});
/** @type {HTMLElement} */ (document.getElementById('key-button')).addEventListener('click', () =>
  askKey(getKey() ? 'A key is set for this tab.' : 'No key is set.'),
);

/**
 * Each route: its pattern, the navigation section it belongs to, the page title, and the page. A page returns the
 * function that stops its timers and streams.
 * @typedef {{onError: (error: unknown) => void}} PageContext
 * @type {[RegExp, string, (id: string) => string, (id: string, query: URLSearchParams, ctx: PageContext) => () => void][]}
 */
const ROUTES = [
  [/^\/runs\/([^/]+)$/, 'runs', (id) => `run ${id}`, (id, q, ctx) => runPage(view, id, q, ctx)],
  [/^\/templates\/([^/]+)$/, 'templates', (id) => `template ${id}`, (id, q, ctx) => templatePage(view, id, q, ctx)],
  [/^\/templates$/, 'templates', () => 'Templates', (_id, _q, ctx) => templatesPage(view, ctx)],
  [/^\/submit$/, 'submit', () => 'Run a workflow', (_id, _q, ctx) => submitPage(view, ctx)],
  [/^\/schedules$/, 'schedules', () => 'Schedules', (_id, _q, ctx) => schedulesPage(view, ctx)],
  [/^\/workers$/, 'workers', () => 'Workers', (_id, _q, ctx) => workersPage(view, ctx)],
  [/^\/(?:runs)?$/, 'runs', () => 'Runs', (_id, q, ctx) => runsPage(view, q, ctx)],
];

function route() {
  dispose?.();
  dispose = undefined;
  clear(view);
  const hash = location.hash.replace(/^#/, '');
  const fromPath = /^\/ui\/runs\/([^/]+)$/.exec(location.pathname);
  const [path = '', search = ''] = hash || !fromPath ? hash.split('?') : [`/runs/${fromPath[1]}`];
  const query = new URLSearchParams(search);
  for (const [pattern, section, title, page] of ROUTES) {
    const match = pattern.exec(path || '/');
    if (!match) continue;
    for (const link of document.querySelectorAll('header.top nav a[data-section]')) {
      link.classList.toggle('active', link.getAttribute('data-section') === section);
    }
    const id = decodeURIComponent(match[1] ?? '');
    document.title = `${title(id)} · Orchestrator`;
    dispose = page(id, query, { onError });
    return;
  }
  view.append(h('p', { class: 'alert' }, `no page ${hash}`));
}

window.addEventListener('hashchange', route);
// dagre arrives as a deferred classic script, which runs before module scripts; the check is for a failed load.
if (!('dagre' in window)) view.append(h('p', { class: 'alert' }, 'the graph layout script did not load'));
route();
