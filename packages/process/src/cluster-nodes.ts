/** One line of CLUSTER NODES: a node as one member of the cluster sees it. */
export interface ClusterNodeView {
  id: string;
  host: string;
  port: number;
  role: 'primary' | 'replica';
  /** The id of the primary it replicates (replicas only). */
  primaryId?: string;
  /** `fail` / `fail?` / `noaddr` / `handshake` flags set: not a live member as far as this view knows. */
  failing: boolean;
  myself: boolean;
  /** Inclusive slot ranges it serves (primaries only). */
  slots: [number, number][];
}

/** Parses CLUSTER NODES (`<id> <ip:port@cport> <flags> <primary> <ping> <pong> <epoch> <link> <slot>...`). */
export function parseClusterNodes(text: string): ClusterNodeView[] {
  const nodes: ClusterNodeView[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    if (fields.length < 8) continue;
    const [id, address, flagText, primary] = fields as [string, string, string, string];
    const hostPort = address.split('@')[0] ?? '';
    const colon = hostPort.lastIndexOf(':');
    const flags = new Set(flagText.split(','));
    const slots: [number, number][] = [];
    for (const slot of fields.slice(8)) {
      if (slot.startsWith('[')) continue; // a slot being migrated or imported: not served by this node yet
      const [from, to] = slot.split('-');
      slots.push([Number(from), Number(to ?? from)]);
    }
    nodes.push({
      id,
      host: hostPort.slice(0, colon),
      port: Number(hostPort.slice(colon + 1)),
      role: flags.has('master') ? 'primary' : 'replica',
      ...(primary !== '-' ? { primaryId: primary } : {}),
      failing: ['fail', 'fail?', 'noaddr', 'handshake'].some((f) => flags.has(f)),
      myself: flags.has('myself'),
      slots,
    });
  }
  return nodes;
}

/** The slot map of a view as one comparable string: `from-to=primary id`, sorted. */
export function slotMapOf(view: ClusterNodeView[]): string {
  return view
    .filter((n) => n.role === 'primary' && !n.failing)
    .flatMap((n) => n.slots.map(([from, to]) => [from, `${from}-${to}=${n.id}`] as const))
    .sort((a, b) => a[0] - b[0])
    .map(([, text]) => text)
    .join(',');
}

/** How many of the 16384 slots the live primaries of a view serve. */
export function slotsCovered(view: ClusterNodeView[]): number {
  return view
    .filter((n) => n.role === 'primary' && !n.failing)
    .reduce((sum, n) => sum + n.slots.reduce((s, [from, to]) => s + to - from + 1, 0), 0);
}
