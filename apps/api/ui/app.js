// @ts-check
import { ApiError, getKey, setKey } from './api.js';
import { clear, h } from './dom.js';
import { runPage } from './run-page.js';
import { runsPage } from './runs-page.js';

/**
 * The page's router: `#/` and `#/runs?status=…` list runs, `#/runs/<id>` (or the path `/ui/runs/<id>`) shows one.
 * A 401 from any call opens the API key dialog; the key is then kept in sessionStorage and the page reloads its view.
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

function route() {
  dispose?.();
  dispose = undefined;
  clear(view);
  const hash = location.hash.replace(/^#/, '');
  const fromPath = /^\/ui\/runs\/([^/]+)$/.exec(location.pathname);
  const runMatch = /^\/runs\/([^/?]+)$/.exec(hash);
  const id = runMatch?.[1] ?? (hash ? undefined : fromPath?.[1]);
  if (id) {
    const runId = decodeURIComponent(id);
    document.title = `run ${runId} · Orchestrator`;
    dispose = runPage(view, runId, { onError });
    return;
  }
  document.title = 'Runs · Orchestrator';
  const query = new URLSearchParams(hash.split('?')[1] ?? '');
  dispose = runsPage(view, query, { onError });
}

window.addEventListener('hashchange', route);
// dagre arrives as a deferred classic script, which runs before module scripts; the check is for a failed load.
if (!('dagre' in window)) view.append(h('p', { class: 'alert' }, 'the graph layout script did not load'));
route();
