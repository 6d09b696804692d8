import { OrchestratorError } from '@orch/errors';
import { ExpressionError } from './expression-error';

describe('ExpressionError', () => {
  it('is an OrchestratorError with code EXPRESSION_ERROR carrying source and position', () => {
    const cause = new Error('inner');
    const error = new ExpressionError('bad', 'a +', {
      position: 3,
      cause,
      details: [{ pointer: '/x', message: 'bad' }],
    });
    expect(error).toBeInstanceOf(OrchestratorError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ExpressionError');
    expect(error.code).toBe('EXPRESSION_ERROR');
    expect(error.status).toBe(400);
    expect(error.message).toBe('bad');
    expect(error.source).toBe('a +');
    expect(error.position).toBe(3);
    expect(error.cause).toBe(cause);
    expect(error.toJSON()).toEqual({
      code: 'EXPRESSION_ERROR',
      message: 'bad',
      details: [{ pointer: '/x', message: 'bad' }],
    });
  });

  it('has no position unless given one', () => {
    expect(new ExpressionError('bad', 'x').position).toBeUndefined();
  });
});
