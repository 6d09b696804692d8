// @ts-check
/**
 * Places a display graph with dagre (ranks top to bottom). Node sizes follow what each node shows: a task's id and
 * type; group, parallel and sub-workflow nodes have a third line (a status bar or a link).
 */

/** @type {any} */
const globals = window;

export const NODE_HEIGHT = 54;
export const TALL_NODE_HEIGHT = 72;
/** Average advance of a 13px label character, for sizing boxes before any text is drawn. */
const CHAR_PX = 7.4;

/**
 * @typedef {import('./graph-model.js').DisplayGraph} DisplayGraph
 * @typedef {import('./graph-model.js').DisplayNode} DisplayNode
 * @typedef {{node: DisplayNode, x: number, y: number, width: number, height: number}} PlacedNode
 * @typedef {{from: string, to: string, branch?: string, points: {x: number, y: number}[]}} PlacedEdge
 * @typedef {{width: number, height: number, nodes: Map<string, PlacedNode>, edges: PlacedEdge[]}} Layout
 */

/** @param {DisplayNode} node */
export function isTall(node) {
  return node.kind === 'group' || node.task.type === 'parallel' || node.task.type === 'workflow';
}

/** @param {DisplayNode} node */
function widthOf(node) {
  if (node.kind === 'group' || node.task.type === 'parallel') return 232;
  const longest = Math.max(node.task.id.length, node.task.type.length + 16);
  return Math.min(260, Math.max(132, longest * CHAR_PX + 34));
}

/** Graphs with more nodes than this may be laid out left to right, when that fits a screen better. */
const ORIENT_FROM = 40;
/** Width over height of the view a graph is usually shown in. */
const VIEW_ASPECT = 1.8;

/**
 * Top to bottom, or for a big graph whichever direction fits a wide view better: a DAG with many tasks per level
 * (a random DAG's many roots) is very wide top to bottom, and reads better left to right.
 * @param {DisplayGraph} graph
 * @param {'TB' | 'LR' | 'auto'} [direction]
 * @returns {Layout & {direction: 'TB' | 'LR'}}
 */
export function layout(graph, direction = 'auto') {
  if (direction !== 'auto') return { ...place(graph, direction), direction };
  const down = place(graph, 'TB');
  if (graph.nodes.length <= ORIENT_FROM) return { ...down, direction: 'TB' };
  const across = place(graph, 'LR');
  const fit = (/** @type {Layout} */ l) => Math.min(VIEW_ASPECT / l.width, 1 / l.height);
  return fit(across) > fit(down) ? { ...across, direction: 'LR' } : { ...down, direction: 'TB' };
}

/**
 * @param {DisplayGraph} graph
 * @param {'TB' | 'LR'} rankdir
 * @returns {Layout}
 */
function place(graph, rankdir) {
  const dagre = globals.dagre;
  const g = new dagre.graphlib.Graph();
  // Big graphs get tighter spacing: the same screen then shows more of them at a readable size.
  const wide = graph.nodes.length > 60;
  g.setGraph({
    rankdir,
    nodesep: wide ? 16 : 28,
    ranksep: wide ? 36 : 46,
    edgesep: 10,
    marginx: 16,
    marginy: 16,
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) {
    g.setNode(node.id, { width: widthOf(node), height: isTall(node) ? TALL_NODE_HEIGHT : NODE_HEIGHT });
  }
  for (const e of graph.edges) g.setEdge(e.from, e.to);
  dagre.layout(g);
  /** @type {Map<string, PlacedNode>} */
  const nodes = new Map();
  for (const node of graph.nodes) {
    const n = g.node(node.id);
    nodes.set(node.id, { node, x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height });
  }
  const branchOf = new Map(graph.edges.map((e) => [`${e.from}\u0000${e.to}`, e.branch]));
  /** @type {PlacedEdge[]} */
  const edges = g.edges().map((/** @type {{v: string, w: string}} */ e) => ({
    from: e.v,
    to: e.w,
    branch: branchOf.get(`${e.v}\u0000${e.w}`),
    points: g.edge(e).points,
  }));
  const size = g.graph();
  return { width: Math.ceil(size.width), height: Math.ceil(size.height), nodes, edges };
}

/**
 * A smooth path through dagre's edge points: quadratic segments through the midpoints.
 * @param {{x: number, y: number}[]} points
 */
export function curve(points) {
  const [first, ...rest] = points;
  if (!first) return '';
  let d = `M ${first.x} ${first.y}`;
  for (let i = 0; i < rest.length - 1; i++) {
    const p = /** @type {{x: number, y: number}} */ (rest[i]);
    const q = /** @type {{x: number, y: number}} */ (rest[i + 1]);
    d += ` Q ${p.x} ${p.y} ${(p.x + q.x) / 2} ${(p.y + q.y) / 2}`;
  }
  const last = rest.at(-1);
  if (last) d += ` L ${last.x} ${last.y}`;
  return d;
}

/**
 * @param {string} text
 * @param {number} width of the box the text must fit in
 * @param {number} [charPx] average character advance: 13px labels by default, 6.2 for the 11px lines
 */
export function clip(text, width, charPx = CHAR_PX) {
  const max = Math.floor((width - 20) / charPx);
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}
