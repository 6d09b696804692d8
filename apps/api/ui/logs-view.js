// @ts-check
import { ApiError, errorOf, headers, parseBlock, runPath } from './api.js';
import { h } from './dom.js';

/**
 * @typedef {{id: string, at: string, stream: 'log' | 'stdout' | 'stderr', level: string, message: string}} LogLine
 */

/**
 * The task panel's Logs tab: one attempt's log (a button per attempt), followed live until the attempt is over; an
 * attempt that ends `retrying` moves on to the next one. The panel is rebuilt on every change of the run, so the
 * view and its stream are kept here, one at a time, and handed back while the panel shows the same task. An attempt
 * picked by its button stays shown.
 */
let current = /** @type {{key: string, el: HTMLElement, stop: AbortController} | undefined} */ (undefined);

/**
 * @param {string} runId
 * @param {string} taskId a task, or a parallel task's item `<task>[<index>]`
 * @param {number} attempts the attempts the task has started (0 before its first)
 */
export function logsView(runId, taskId, attempts) {
  const key = `${runId}\n${taskId}`;
  if (current?.key === key) {
    current.el.dispatchEvent(new CustomEvent('attempts', { detail: attempts }));
    return current.el;
  }
  stopLogs();
  const stop = new AbortController();
  const lines = h('div', { class: 'log-lines', role: 'log', 'aria-live': 'polite' });
  const bar = h('div', { class: 'log-bar' });
  const state = h('span', { class: 'log-state' });
  const el = h('div', { class: 'logs', dataset: { task: taskId } }, bar, lines);
  let known = Math.max(1, attempts);
  /** An attempt the user picked stays shown; otherwise a retried attempt gives way to the next. */
  let pinned = false;
  /** @type {AbortController | undefined} */
  let following;
  const show = (/** @type {number} */ attempt) => {
    following?.abort();
    following = new AbortController();
    stop.signal.addEventListener('abort', () => following?.abort(), { once: true });
    el.dataset.attempt = String(attempt);
    lines.replaceChildren();
    drawBar(attempt);
    void follow(runId, taskId, attempt, following.signal, {
      onLine: (line) => {
        const stick = lines.scrollTop + lines.clientHeight >= lines.scrollHeight - 4;
        lines.append(lineRow(line));
        if (stick) lines.scrollTop = lines.scrollHeight;
      },
      onState: (text, ending) => {
        state.textContent = text;
        el.dataset.state = ending ? 'ended' : text;
        if (ending) el.dataset.ending = ending;
        else delete el.dataset.ending;
        if (ending === 'retrying' && !pinned) {
          known = Math.max(known, attempt + 1);
          show(attempt + 1);
        }
      },
    });
  };
  const drawBar = (/** @type {number} */ selected) => {
    const buttons = Array.from({ length: known }, (_, i) =>
      h(
        'button',
        {
          type: 'button',
          class: 'chip attempt',
          dataset: { attempt: i + 1 },
          'aria-pressed': String(i + 1 === selected),
          onclick: () => {
            pinned = true;
            show(i + 1);
          },
        },
        `attempt ${i + 1}`,
      ),
    );
    bar.replaceChildren(...buttons, state);
  };
  el.addEventListener('attempts', (event) => {
    const n = /** @type {CustomEvent<number>} */ (event).detail;
    if (n > known) {
      known = n;
      drawBar(Number(el.dataset.attempt));
    }
  });
  current = { key, el, stop };
  show(known);
  return el;
}

/** Stops following the log shown (the run page was left, or another task opened). */
export function stopLogs() {
  current?.stop.abort();
  current = undefined;
}

/**
 * @param {LogLine} line
 */
function lineRow(line) {
  const label = line.stream === 'log' ? line.level : line.stream;
  return h(
    'div',
    { class: 'log-line', dataset: { stream: line.stream, level: line.level } },
    h('time', { datetime: line.at, title: line.at }, line.at.slice(11, 23)),
    h('span', { class: 'log-label' }, label),
    h('span', { class: 'log-message' }, line.message),
  );
}

/**
 * Reads the attempt's log as Server-Sent Events (the API's follow=true) until its end message; a dropped stream
 * resumes after the last line it gave.
 * @param {string} runId
 * @param {string} taskId
 * @param {number} attempt
 * @param {AbortSignal} signal
 * @param {{onLine: (line: LogLine) => void, onState: (text: string, ending?: string) => void}} on
 */
async function follow(runId, taskId, attempt, signal, on) {
  const path = `${runPath(runId)}/tasks/${encodeURIComponent(taskId)}/logs?follow=true&attempt=${attempt}`;
  let lastId = '';
  let failures = 0;
  let count = 0;
  const ended = (/** @type {string | undefined} */ ending) =>
    on.onState(count === 0 ? `no log lines · ${ending ?? 'over'}` : `ended: ${ending ?? 'over'}`, ending ?? 'over');
  while (!signal.aborted && failures <= 5) {
    try {
      /** @type {Record<string, string>} */
      const extra = { accept: 'text/event-stream' };
      if (lastId) extra['last-event-id'] = lastId;
      const response = await fetch(path, { headers: headers(extra), signal });
      if (response.status === 204) return ended(undefined);
      if (response.status >= 400) throw await errorOf(response);
      on.onState('following live');
      const reader = /** @type {ReadableStream<Uint8Array>} */ (response.body).getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const fields = parseBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (fields.data === undefined) continue;
          failures = 0;
          if (fields.event === 'end') return ended(JSON.parse(fields.data).ending);
          if (fields.id) lastId = fields.id;
          count += 1;
          on.onLine(JSON.parse(fields.data));
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status < 500) return on.onState(error.describe());
    }
    failures += 1;
    on.onState('reconnecting…');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
