import { canonicalJson, requestFingerprint } from './request-fingerprint';

describe('requestFingerprint', () => {
  it('is the same for the same body whatever the key order and spacing', () => {
    const a = JSON.parse('{"correlation_id":"c1","workflow":{"id":"w","tasks":[{"id":"t","type":"transform"}]}}');
    const b = JSON.parse(
      '{ "workflow": {"tasks": [{"type": "transform", "id": "t"}], "id": "w"}, "correlation_id": "c1" }',
    );
    expect(requestFingerprint(a)).toBe(requestFingerprint(b));
    expect(requestFingerprint(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs for any other difference: a variable, an array order, a type', () => {
    const base = { correlation_id: 'c1', workflow_template: 't', variables: { n: 1, list: [1, 2] } };
    const fingerprints = [
      base,
      { ...base, variables: { n: 2, list: [1, 2] } },
      { ...base, variables: { n: '1', list: [1, 2] } },
      { ...base, variables: { n: 1, list: [2, 1] } },
      { ...base, workflow_template: 'u' },
      { ...base, targets: ['a'] },
    ].map(requestFingerprint);
    expect(new Set(fingerprints).size).toBe(fingerprints.length);
  });

  it('writes canonical JSON: sorted keys at every level, undefined members left out', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"e":3,"f":2}]},"b":1}',
    );
    expect(canonicalJson(['x', null, true])).toBe('["x",null,true]');
  });
});
