// @ts-check
/**
 * What the graph draws: the run's tasks, with each wide fan-out folded into one group node. Tasks are siblings when
 * they have the same dependencies and the same dependents (the 500 middle tasks of a 1 → 500 → 1 run); more than
 * GROUP_MIN siblings become a group, drawn as one node with counts by status, unless the user expanded it.
 */

/** Fan-outs wider than this are folded. */
export const GROUP_MIN = 12;

/**
 * @typedef {import('./dag-view.js').GraphTask} GraphTask
 * @typedef {{kind: 'task', id: string, task: GraphTask}} TaskNode
 * @typedef {{kind: 'group', id: string, key: string, members: string[], type: string}} GroupNode
 * @typedef {TaskNode | GroupNode} DisplayNode
 * @typedef {{from: string, to: string, branch?: 'on_success' | 'on_failure'}} DisplayEdge
 * @typedef {{nodes: DisplayNode[], edges: DisplayEdge[], nodeOf: Map<string, string>, groups: GroupNode[]}} DisplayGraph
 */

/**
 * The sibling groups of a graph, each with a stable key (its first member), widest first.
 * @param {GraphTask[]} tasks
 * @returns {{key: string, members: string[]}[]}
 */
export function siblingGroups(tasks) {
  /** @type {Map<string, string[]>} */
  const dependents = new Map();
  for (const t of tasks) for (const d of t.depends_on) dependents.set(d, [...(dependents.get(d) ?? []), t.id]);
  /** @type {Map<string, string[]>} */
  const bySignature = new Map();
  for (const t of tasks) {
    const signature = JSON.stringify([[...t.depends_on].sort(), [...(dependents.get(t.id) ?? [])].sort()]);
    bySignature.set(signature, [...(bySignature.get(signature) ?? []), t.id]);
  }
  return [...bySignature.values()]
    .filter((members) => members.length > GROUP_MIN)
    .map((members) => ({ key: /** @type {string} */ (members[0]), members }))
    .sort((a, b) => b.members.length - a.members.length);
}

/**
 * @param {GraphTask[]} tasks
 * @param {Set<string>} expanded keys of the groups drawn as their tasks
 * @returns {DisplayGraph}
 */
export function displayGraph(tasks, expanded) {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  /** @type {Map<string, string>} task id -> the node that shows it */
  const nodeOf = new Map(tasks.map((t) => [t.id, t.id]));
  /** @type {GroupNode[]} */
  const groups = [];
  for (const { key, members } of siblingGroups(tasks)) {
    if (expanded.has(key)) continue;
    const types = new Set(members.map((m) => byId.get(m)?.type));
    const group = /** @type {GroupNode} */ ({
      kind: 'group',
      id: `group:${key}`,
      key,
      members,
      type: types.size === 1 ? String([...types][0]) : 'mixed',
    });
    groups.push(group);
    for (const m of members) nodeOf.set(m, group.id);
  }
  /** @type {DisplayNode[]} */
  const nodes = [];
  const placed = new Set();
  for (const t of tasks) {
    const id = /** @type {string} */ (nodeOf.get(t.id));
    if (placed.has(id)) continue;
    placed.add(id);
    nodes.push(
      id === t.id ? { kind: 'task', id, task: t } : /** @type {GroupNode} */ (groups.find((g) => g.id === id)),
    );
  }
  /** @type {Map<string, DisplayEdge>} */
  const edges = new Map();
  for (const t of tasks) {
    for (const d of t.depends_on) {
      const from = /** @type {string} */ (nodeOf.get(d));
      const to = /** @type {string} */ (nodeOf.get(t.id));
      const key = `${from}\u0000${to}`;
      if (from === to || edges.has(key)) continue;
      const branch = from === d && to === t.id ? t.branches?.[d] : undefined;
      edges.set(key, branch ? { from, to, branch } : { from, to });
    }
  }
  return { nodes, edges: [...edges.values()], nodeOf, groups };
}

/**
 * Counts of the members' statuses, in display order.
 * @param {string[]} members
 * @param {(id: string) => string} statusOf
 * @returns {[string, number][]}
 */
export function statusCounts(members, statusOf) {
  /** @type {Map<string, number>} */
  const counts = new Map();
  for (const m of members) {
    const s = statusOf(m);
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return STATUS_ORDER.filter((s) => counts.has(s)).map((s) => [s, /** @type {number} */ (counts.get(s))]);
}

export const STATUS_ORDER = [
  'failed',
  'running',
  'waiting',
  'retrying',
  'pending',
  'upstream_failed',
  'cancelled',
  'skipped',
  'completed',
];

/**
 * One status for a group: the most urgent its members have (failed, then running, ...), or completed when all are.
 * @param {[string, number][]} counts
 */
export function groupStatus(counts) {
  return counts[0]?.[0] ?? 'pending';
}

/**
 * "work_0 … work_499": the first and last member, for the group's label.
 * @param {string[]} members
 */
export function groupLabel(members) {
  return members.length === 1 ? String(members[0]) : `${members[0]} … ${members.at(-1)}`;
}
