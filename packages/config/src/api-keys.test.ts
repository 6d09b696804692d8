import { hasScope, parseApiKeys } from './api-keys';

describe('parseApiKeys', () => {
  it('reads name:key:scopes entries, and a plain key as an admin key named by its position', () => {
    expect(parseApiKeys('ci:k1:read+run, ops:k2:admin,legacy').keys).toEqual([
      { name: 'ci', key: 'k1', scopes: ['read', 'run'] },
      { name: 'ops', key: 'k2', scopes: ['admin'] },
      { name: 'key-3', key: 'legacy', scopes: ['admin'] },
    ]);
    expect(parseApiKeys('').keys).toEqual([]);
  });

  it('names every bad entry by position and name, never by its key', () => {
    const { errors } = parseApiKeys(
      'a:secret-1, b:secret-2:write, :secret-3:read, c::read, d:secret-4:read, d:secret-5:run, e:secret-4:run',
    );
    const messages = errors.map((e) => e.message);
    expect(messages).toEqual([
      'entry 1 must be a plain key or name:key:scopes (e.g. ci:<key>:read+run)',
      "entry 2 (b): scopes must be read, run, admin joined by '+'; got 'write'",
      "entry 3: the name must be 1-64 letters, digits, '_', '.', '@' or '-'",
      'entry 4 (c) has an empty key',
      "the name 'd' is used by two entries",
      "the key of 'e' is also the key of an earlier entry",
    ]);
    for (const message of messages) expect(message).not.toMatch(/secret-/);
  });
});

describe('hasScope', () => {
  it('grants listed scopes, and every scope to admin', () => {
    expect(hasScope(['read'], 'read')).toBe(true);
    expect(hasScope(['read'], 'run')).toBe(false);
    expect(hasScope(['run'], 'read')).toBe(false);
    expect(hasScope(['admin'], 'run')).toBe(true);
  });
});
