import { EndedRuns } from './ended-runs';

describe('EndedRuns', () => {
  it('knows the runs it was told of, with their final status, and forgets the oldest past its size', () => {
    const ended = new EndedRuns(2);
    ended.add('a', 'completed');
    ended.add('b', 'failed');
    expect([ended.get('a'), ended.get('b'), ended.get('c')]).toEqual(['completed', 'failed', undefined]);
    ended.add('c', 'cancelled');
    expect([ended.get('a'), ended.get('b'), ended.get('c')]).toEqual([undefined, 'failed', 'cancelled']);
  });
});
