// @ts-check
import { h } from './dom.js';

/**
 * A tab strip and the selected tab's content, built only when shown. Tabs are data, so adding one (the task
 * panel's Logs) is one more entry.
 * @typedef {{id: string, label: string, render: () => Node}} Tab
 * @param {Tab[]} list
 * @param {{selected?: string, onChange?: (id: string) => void, label: string}} options
 */
export function tabs(list, options) {
  const current = list.find((t) => t.id === options.selected) ?? list[0];
  const panel = h('div', { class: 'tab-panel', role: 'tabpanel' });
  /** @type {HTMLElement[]} */
  const buttons = [];
  /** @param {Tab | undefined} tab */
  const show = (tab) => {
    if (!tab) return;
    for (const b of buttons) b.setAttribute('aria-selected', String(b.dataset.tab === tab.id));
    panel.replaceChildren(tab.render());
    panel.dataset.tab = tab.id;
  };
  for (const tab of list) {
    buttons.push(
      h(
        'button',
        {
          type: 'button',
          role: 'tab',
          class: 'tab',
          dataset: { tab: tab.id },
          onclick: () => {
            show(tab);
            options.onChange?.(tab.id);
          },
        },
        tab.label,
      ),
    );
  }
  const strip = h('div', { class: 'tabs', role: 'tablist', 'aria-label': options.label }, ...buttons);
  show(current);
  return h('div', { class: 'tabbed' }, strip, panel);
}
