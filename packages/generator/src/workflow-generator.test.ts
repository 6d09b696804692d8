import { buildRepairPrompt, buildSystemPrompt, buildUserPrompt } from './generation-prompt';
import {
  BROKEN,
  BROKEN_ERRORS,
  failure,
  json,
  jsonParseMessage,
  reply,
  TEMPLATE,
  useModelServer,
  VALID,
  WITH_EXEC,
} from './test-generator-fixtures';
import { MAX_PROMPT_CHARS, WorkflowGenerator } from './workflow-generator';

const setup = useModelServer();

describe('WorkflowGenerator.generate', () => {
  it('returns a valid workflow with its plan and provenance, asking for the workflow JSON Schema', async () => {
    const { server, generator } = await setup(() => reply(VALID, { prompt_tokens: 120, completion_tokens: 80 }), {
      templates: [TEMPLATE],
    });
    const result = await generator.generate({
      prompt: '  Summarise the graph  ',
      domain: 'data-science',
      complexity: 'low',
      required_services: ['ai', 'data'],
    });

    expect(result.valid).toBe(true);
    expect(result.workflow).toEqual(VALID);
    expect(result.errors).toEqual([]);
    expect(result.attempts).toBe(1);
    expect(result.model).toBe('test-model');
    expect(result.usage).toEqual({ prompt_tokens: 120, completion_tokens: 80 });
    expect(result.plan?.levels.map((level) => level.map((t) => [t.id, t.type]))).toEqual([
      [['fetch', 'data']],
      [['summarize', 'ai']],
    ]);
    expect(result.plan?.levels[0]?.[0]?.parameters).toEqual({
      operation: 'traverse',
      query: { cypher: 'MATCH (n) RETURN n LIMIT 10' },
    });
    expect(result.provenance).toEqual({
      prompt: 'Summarise the graph',
      domain: 'data-science',
      complexity: 'low',
      required_services: ['data', 'ai'],
      model: 'test-model',
      attempts: 1,
      verdicts: [{ attempt: 1, valid: true, errors: [] }],
      generated_at: '2030-01-02T03:04:05.000Z',
    });

    expect(server.requests).toHaveLength(1);
    const { body, headers } = server.requests[0]!;
    expect(headers.authorization).toBe('Bearer not-needed');
    expect(body.model).toBe('test-model');
    expect(body.response_format.type).toBe('json_schema');
    expect(body.response_format.json_schema.name).toBe('workflow');
    expect(body.response_format.json_schema.strict).toBe(false);
    expect(body.response_format.json_schema.schema.required).toEqual(['id', 'tasks']);
    expect(body.response_format.json_schema.schema.properties.tasks.items.properties.type).toEqual({
      enum: ['data', 'ai', 'parallel', 'condition', 'transform', 'workflow', 'approval', 'delay'],
    });
    expect(JSON.stringify(body.response_format)).not.toMatch(/x-message|"format"/);
    expect(body.messages).toEqual([
      { role: 'system', content: buildSystemPrompt(['data', 'ai'], [TEMPLATE]) },
      {
        role: 'user',
        content: buildUserPrompt({
          prompt: 'Summarise the graph',
          domain: 'data-science',
          complexity: 'low',
          services: ['data', 'ai'],
        }),
      },
    ]);
    expect(body.messages[1].content).toBe(
      [
        'Create a workflow for this request:',
        '"""',
        'Summarise the graph',
        '"""',
        'Domain: data-science',
        'Complexity: low (about 2 to 4 tasks, a straight line)',
        'Services: data, ai',
      ].join('\n'),
    );
    expect(body.messages[0].content).toContain('Not available for this request: exec. Do not use these types.');
    // The template is given as a stand-alone workflow: its input became a literal variable.
    expect(body.messages[0].content).toContain(
      'Tiny (tiny): One AI call\n{"id":"tiny-run","tasks":[{"id":"write","type":"ai","parameters":{"prompt":"About ${topic}"}}],"variables":{"topic":"<topic>"}}',
    );
  });

  it('sends the errors back as a list with pointers and accepts the repaired workflow', async () => {
    const { server, generator } = await setup((_, n) => reply(n === 0 ? BROKEN : VALID));
    const result = await generator.generate({ prompt: 'Summarise the graph' });

    expect(result.valid).toBe(true);
    expect(result.attempts).toBe(2);
    expect(result.usage).toEqual({ prompt_tokens: 200, completion_tokens: 100 });
    expect(result.provenance.verdicts).toEqual([
      { attempt: 1, valid: false, errors: BROKEN_ERRORS },
      { attempt: 2, valid: true, errors: [] },
    ]);
    const second = server.requests[1]!.body.messages;
    expect(second).toHaveLength(4);
    expect(second[2]).toEqual({ role: 'assistant', content: json(BROKEN) });
    expect(second[3]).toEqual({ role: 'user', content: buildRepairPrompt(BROKEN_ERRORS) });
    expect(second[3].content).toBe(
      'The workflow you returned has these problems (pointer: a JSON pointer into your reply):\n' +
        '[{"pointer":"/tasks/1/depends_on/0","message":"unknown task \'fetch_data\'"},' +
        '{"pointer":"/tasks/1/parameters/prompt","message":"task \'summarize\' reads the output of \'fetch\' but does ' +
        "not depend on it; add 'fetch' to depends_on\"}]\n" +
        'Reply with the complete corrected workflow as one JSON object.',
    );
  });

  it('gives up after maxAttempts with the last candidate and its errors, without throwing', async () => {
    const { server, generator } = await setup(() => reply(BROKEN));
    const result = await generator.generate({ prompt: 'Summarise the graph' });

    expect(server.requests).toHaveLength(3);
    expect(result.valid).toBe(false);
    expect(result.workflow).toEqual(BROKEN);
    expect(result.errors).toEqual(BROKEN_ERRORS);
    expect(result.attempts).toBe(3);
    expect(result.plan).toBeNull();
    expect(result.provenance.verdicts.map((v) => [v.attempt, v.valid, v.errors.length])).toEqual([
      [1, false, 2],
      [2, false, 2],
      [3, false, 2],
    ]);
  });

  it('counts a reply that is not JSON as an attempt and sends the parse error back', async () => {
    const prose = 'Sure! Here is your workflow: it fetches the graph.';
    const parseMessage = jsonParseMessage(prose);
    const { server, generator } = await setup((_, n) => reply(n === 0 ? prose : VALID), { maxAttempts: 2 });
    const result = await generator.generate({ prompt: 'Summarise the graph' });

    expect(result.valid).toBe(true);
    expect(result.attempts).toBe(2);
    const notJson = [{ pointer: '', message: `reply is not JSON: ${parseMessage}` }];
    expect(result.provenance.verdicts[0]).toEqual({ attempt: 1, valid: false, errors: notJson });
    expect(server.requests[1]!.body.messages.slice(2)).toEqual([
      { role: 'assistant', content: prose },
      { role: 'user', content: buildRepairPrompt(notJson) },
    ]);
  });

  it('returns a null workflow when the last reply is not JSON', async () => {
    const { generator } = await setup(() => reply('no'), { maxAttempts: 1 });
    const result = await generator.generate({ prompt: 'Summarise the graph' });
    expect(result).toMatchObject({
      valid: false,
      workflow: null,
      attempts: 1,
      errors: [{ pointer: '', message: `reply is not JSON: ${jsonParseMessage('no')}` }],
    });
  });

  it('holds the request to required_services: an exec task is an error sent back to the model', async () => {
    const { server, generator } = await setup((_, n) => reply(n === 0 ? WITH_EXEC : VALID));
    const result = await generator.generate({ prompt: 'Count the nodes', required_services: ['data', 'ai'] });

    const errors = [
      { pointer: '/tasks/1/type', message: "task type 'exec' is not allowed: required_services is data, ai" },
    ];
    expect(result.valid).toBe(true);
    expect(result.attempts).toBe(2);
    expect(result.provenance.verdicts[0]).toEqual({ attempt: 1, valid: false, errors });
    expect(server.requests[1]!.body.messages[3]).toEqual({ role: 'user', content: buildRepairPrompt(errors) });
  });

  it('evaluates the variables of a candidate that validates, and sends their errors back', async () => {
    const dividing = { ...VALID, variables: { limit: '${1 / 0}' } };
    const { generator } = await setup((_, n) => reply(n === 0 ? dividing : VALID));
    const result = await generator.generate({ prompt: 'Summarise the graph' });
    expect(result.valid).toBe(true);
    expect(result.provenance.verdicts[0]).toEqual({
      attempt: 1,
      valid: false,
      errors: [{ pointer: '/variables/limit', message: 'division by zero in "1 / 0"' }],
    });
  });

  it('refuses to run without a model endpoint', async () => {
    const generator = new WorkflowGenerator({ model: 'm', timeoutMs: 1_000, maxAttempts: 3 });
    expect(generator.configured).toBe(false);
    const error = await failure(generator.generate({ prompt: 'Summarise the graph' }));
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(error.status).toBe(503);
    expect(error.message).toBe(
      'workflow generation needs a model endpoint: set OPENAI_BASE_URL (any OpenAI-compatible server) and/or OPENAI_API_KEY',
    );
  });

  it('refuses an oversize prompt before calling the model', async () => {
    const { server, generator } = await setup(() => reply(VALID));
    const error = await failure(generator.generate({ prompt: 'x'.repeat(MAX_PROMPT_CHARS + 1) }));
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(error.status).toBe(413);
    expect(error.message).toBe('prompt is 8001 characters; the limit is 8000');
    expect(server.requests).toHaveLength(0);
  });

  it('reports every problem of a bad request at once', async () => {
    const { server, generator } = await setup(() => reply(VALID));
    const empty = await failure(generator.generate({ prompt: '   ' }));
    expect(empty.code).toBe('BAD_REQUEST');
    expect(empty.message).toBe('prompt must not be empty');
    const bad = await failure(
      generator.generate({
        prompt: 'ok',
        complexity: 'extreme' as never,
        required_services: ['data', 'email'] as never,
      }),
    );
    expect(bad.toJSON()).toEqual({
      code: 'BAD_REQUEST',
      message: 'complexity must be one of: low, medium, high; required_services must be a list of: data, ai, exec',
      details: [
        { pointer: '/complexity', message: 'complexity must be one of: low, medium, high' },
        { pointer: '/required_services', message: 'required_services must be a list of: data, ai, exec' },
      ],
    });
    expect(server.requests).toHaveLength(0);
  });

  it('stops when the caller aborts', async () => {
    const { server, generator } = await setup(() => 'hang');
    const controller = new AbortController();
    const pending = generator.generate({ prompt: 'Summarise the graph' }, { signal: controller.signal });
    await server.request(0);
    controller.abort(new Error('client went away'));
    await expect(pending).rejects.toThrow('client went away');
  });
});
