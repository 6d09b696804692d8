import type { TemplateDefinition } from '@orch/core';
import { OrchestratorError } from '@orch/errors';
import { completion, type ModelServer, type Responder, startModelServer } from './testing';
import { WorkflowGenerator } from './workflow-generator';

/** Test helper: fixtures and setup shared by the generator's test files. */

export const NOW = new Date('2030-01-02T03:04:05.000Z');

export const VALID = {
  id: 'graph-summary',
  name: 'Graph summary',
  variables: { limit: 10 },
  tasks: [
    {
      id: 'fetch',
      type: 'data',
      parameters: { operation: 'traverse', query: { cypher: 'MATCH (n) RETURN n LIMIT ${limit}' } },
    },
    {
      id: 'summarize',
      type: 'ai',
      depends_on: ['fetch'],
      parameters: { prompt: 'Summarize: ${json(fetch.output.rows)}' },
    },
  ],
};

/** Same as VALID, but summarize depends on a misspelt task and reads fetch without depending on it. */
export const BROKEN = {
  ...VALID,
  tasks: [VALID.tasks[0], { ...VALID.tasks[1], depends_on: ['fetch_data'] }],
};
export const BROKEN_ERRORS = [
  { pointer: '/tasks/1/depends_on/0', message: "unknown task 'fetch_data'" },
  {
    pointer: '/tasks/1/parameters/prompt',
    message: "task 'summarize' reads the output of 'fetch' but does not depend on it; add 'fetch' to depends_on",
  },
];

export const WITH_EXEC = {
  ...VALID,
  tasks: [
    VALID.tasks[0],
    {
      id: 'count',
      type: 'exec',
      depends_on: ['fetch'],
      parameters: { image: 'python:3.12-slim', command: ['python3', '-c', 'print(1)'] },
    },
  ],
};

export const TEMPLATE: TemplateDefinition = {
  id: 'tiny',
  name: 'Tiny',
  description: 'One AI call',
  variables: [{ name: 'topic', type: 'string', required: true }],
  workflow: { id: 'tiny-run', tasks: [{ id: 'write', type: 'ai', parameters: { prompt: 'About ${topic}' } }] },
};

export const json = (value: unknown) => JSON.stringify(value);
export const reply = (value: unknown, usage?: { prompt_tokens: number; completion_tokens: number }) => ({
  json: completion(typeof value === 'string' ? value : json(value), usage),
});

type GeneratorOptions = ConstructorParameters<typeof WorkflowGenerator>[0];

/** Registers an afterEach that closes the server; the returned function starts one and a generator aimed at it. */
export function useModelServer(): (
  respond: Responder,
  options?: Partial<GeneratorOptions>,
) => Promise<{ server: ModelServer; generator: WorkflowGenerator }> {
  let server: ModelServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  return async (respond, options = {}) => {
    server = await startModelServer(respond);
    const generator = new WorkflowGenerator({
      baseUrl: server.baseUrl,
      model: 'test-model',
      timeoutMs: 5_000,
      maxAttempts: 3,
      now: () => NOW,
      ...options,
    });
    return { server, generator };
  };
}

/** The error a promise rejects with, for exact assertions on its fields. */
export async function failure(promise: Promise<unknown>): Promise<OrchestratorError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OrchestratorError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

export function jsonParseMessage(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected invalid JSON');
}
