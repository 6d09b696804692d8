import { isConnectionError } from './connection-log';

describe('isConnectionError', () => {
  it('recognises socket errors by code or by message, and the closed-connection rejection', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    expect(isConnectionError(refused)).toBe(true);
    expect(isConnectionError(new Error('read ECONNRESET'))).toBe(true);
    expect(isConnectionError(new Error('Connection is closed.'))).toBe(true);
    expect(isConnectionError({ message: 'connect ETIMEDOUT' })).toBe(true); // an Error of another realm
  });

  it('leaves command and script errors alone', () => {
    expect(isConnectionError(new Error('ERR unknown command'))).toBe(false);
    expect(isConnectionError(new Error('Missing lock for job 1. moveToFinished'))).toBe(false);
    expect(isConnectionError('ECONNREFUSED')).toBe(false);
    expect(isConnectionError(null)).toBe(false);
  });
});
