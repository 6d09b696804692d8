import { defineTask } from './define-task';
import { sdkContext } from './task-context';

const handler = async () => ({});

describe('defineTask', () => {
  it('returns a valid definition as given', () => {
    const task = { name: 'greet', parameters: { type: 'object' }, handler };
    expect(defineTask(task)).toBe(task);
  });

  it('refuses a built-in name, a bad name and a broken schema at once', () => {
    expect(() => defineTask({ name: 'exec', parameters: { type: 'object' }, handler })).toThrow(/built-in task type/);
    expect(() => defineTask({ name: 'Greet!', parameters: { type: 'object' }, handler })).toThrow(/must match/);
    expect(() => defineTask({ name: 'greet', parameters: { type: 'objekt' }, handler })).toThrow(
      /parameters is not a valid JSON Schema/,
    );
  });
});

describe('the handler context', () => {
  it('keeps every field of the engine’s context, and heartbeat throws once the attempt is aborted', () => {
    const controller = new AbortController();
    const lines: unknown[] = [];
    const logger = { debug: (...args: unknown[]) => lines.push(args), info() {}, warn() {}, error() {} };
    const written: string[] = [];
    const log = (message: string) => {
      written.push(message);
    };
    const ctx = sdkContext({ executionId: 'e', taskId: 't', attempt: 2, signal: controller.signal, logger, log });
    expect([ctx.executionId, ctx.taskId, ctx.attempt, ctx.signal]).toEqual(['e', 't', 2, controller.signal]);
    ctx.log('into the task log');
    expect(written).toEqual(['into the task log']);
    ctx.heartbeat({ done: 3 });
    expect(lines).toEqual([['heartbeat', { done: 3 }]]);
    controller.abort(new Error('cancelled'));
    expect(() => ctx.heartbeat()).toThrow('cancelled');
  });
});
