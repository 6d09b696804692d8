// @ts-check
import { badge, h } from './dom.js';
import { groupLabel, statusCounts } from './graph-model.js';

const PAGE = 100;

/**
 * A folded fan-out: its counts by status (each a filter), its members a page at a time (click one for its details),
 * and the button that draws the group as separate nodes.
 * @param {{group: import('./graph-model.js').GroupNode, statusOf: (id: string) => string,
 *   states: Map<string, import('./dag-view.js').TaskState>, filter?: string,
 *   onFilter: (status: string | undefined) => void, onOpen: (taskId: string) => void,
 *   onExpand: () => void, onClose: () => void}} props
 */
export function groupPanel(props) {
  const { group } = props;
  const counts = statusCounts(group.members, props.statusOf);
  const shown = props.filter ? group.members.filter((m) => props.statusOf(m) === props.filter) : group.members;
  const list = h('ol', { class: 'members' });
  const more = h('button', { type: 'button', class: 'more' }, 'more');
  let offset = 0;
  const page = () => {
    for (const id of shown.slice(offset, offset + PAGE)) {
      const task = props.states.get(id);
      list.append(
        h(
          'li',
          { dataset: { task: id, status: props.statusOf(id) } },
          h('button', { type: 'button', class: 'link member', onclick: () => props.onOpen(id) }, id),
          ' ',
          badge(props.statusOf(id)),
          (task?.attempts ?? 0) > 1 ? h('span', { class: 'muted' }, ` #${task?.attempts}`) : null,
        ),
      );
    }
    offset += PAGE;
    more.hidden = offset >= shown.length;
  };
  more.addEventListener('click', page);
  page();
  return h(
    'aside',
    {
      class: 'panel group-panel',
      dataset: { group: group.key },
      'aria-label': `group of ${group.members.length} tasks`,
    },
    h(
      'header',
      {},
      h('h2', {}, `${group.members.length} × ${group.type}`),
      h('button', { type: 'button', class: 'link close', onclick: props.onClose, 'aria-label': 'close' }, '×'),
    ),
    h('p', { class: 'muted' }, `${groupLabel(group.members)}: tasks with the same dependencies and dependents`),
    h(
      'p',
      { class: 'group-counts' },
      h(
        'button',
        { type: 'button', class: props.filter ? 'chip' : 'chip active', onclick: () => props.onFilter(undefined) },
        `all ${group.members.length}`,
      ),
      ...counts.map(([status, n]) =>
        h(
          'button',
          {
            type: 'button',
            class: props.filter === status ? 'chip active' : 'chip',
            dataset: { status, count: n },
            onclick: () => props.onFilter(status),
          },
          `${n} ${status.replace('_', ' ')}`,
        ),
      ),
    ),
    h(
      'button',
      { type: 'button', class: 'expand', onclick: props.onExpand },
      `show the ${group.members.length} tasks as separate nodes`,
    ),
    list,
    more,
  );
}
