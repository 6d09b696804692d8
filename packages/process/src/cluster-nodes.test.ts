import { parseClusterNodes, slotMapOf, slotsCovered } from './cluster-nodes';

const NODES = [
  'a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460',
  'b2 127.0.0.1:7001@17001 master - 0 1 2 connected 5461-10922 [10923->-c3]',
  'c3 127.0.0.1:7002@17002 master,fail - 0 1 3 disconnected 10923-16383',
  'd4 127.0.0.1:7003@17003 slave a1 0 1 1 connected',
  'e5 127.0.0.1:7004@17004,host-e slave c3 0 1 3 connected',
].join('\n');

describe('parseClusterNodes', () => {
  it('reads roles, primaries of replicas, failure flags and slot ranges (not slots in migration)', () => {
    const view = parseClusterNodes(NODES);
    expect(view.map((n) => [n.id, n.port, n.role, n.primaryId, n.failing, n.myself])).toEqual([
      ['a1', 7000, 'primary', undefined, false, true],
      ['b2', 7001, 'primary', undefined, false, false],
      ['c3', 7002, 'primary', undefined, true, false],
      ['d4', 7003, 'replica', 'a1', false, false],
      ['e5', 7004, 'replica', 'c3', false, false],
    ]);
    expect(view[1]?.slots).toEqual([[5461, 10922]]);
    expect(view[0]?.host).toBe('127.0.0.1');
  });

  it('counts the slots live primaries serve, and spells the slot map comparably', () => {
    const view = parseClusterNodes(NODES);
    expect(slotsCovered(view)).toBe(10923);
    expect(slotMapOf(view)).toBe('0-5460=a1,5461-10922=b2');
    expect(slotMapOf([...view].reverse())).toBe(slotMapOf(view));
  });
});
