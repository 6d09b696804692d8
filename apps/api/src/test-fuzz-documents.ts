import fc from 'fast-check';

/**
 * Generated documents for the fuzz test: workflows and submissions from the real shapes, with wrong types, reserved
 * names, bad expressions and deep nesting mixed in, and runnable workflows whose runs execute. An `exec` command is
 * only ever `echo`: the exec-agent runs local processes.
 */

export const json = fc.jsonValue({ maxDepth: 4 });
export const shortText = fc.string({ maxLength: 30 });
export const anyText = fc.string({ unit: 'binary', maxLength: 60 });
export const printable = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

/** Nested arrays and objects, up to far past every limit. */
export const deepText = fc
  .tuple(fc.integer({ min: 1, max: 6000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => open.repeat(depth) + (open === '[' ? ']' : '1}').repeat(depth));

export const names = fc.oneof(
  fc.constantFrom('a', 'b', 'c', 'fetch', '__proto__', 'constructor', 'prototype', 'toString', '1a', 'a-b', '', 'item'),
  shortText,
);

const expression = fc.oneof(
  fc.constantFrom(
    '${a.output}',
    '${a.output.rows[0]}',
    '${1 +}',
    '${constructor}',
    '${a.output.__proto__}',
    '${item}',
    '${score > 0.5}',
    `\${${'a.'.repeat(300)}b}`,
    `\${${'('.repeat(400)}1${')'.repeat(400)}}`,
    '${len(a.output) * 1e308}',
    '${"x" * 100000000}',
  ),
  shortText.map((s) => `\${${s}}`),
);

const duration = fc.oneof(fc.constantFrom('10ms', '1s', '50ms', 0, -1, 'forever', '1h30m', 1e308), json);
const templateReference = fc.oneof(
  fc.constantFrom(
    'data-analysis-basic',
    'ai-content-pipeline',
    '../../etc/passwd',
    '/etc/passwd',
    'x@1.0',
    'constructor',
  ),
  shortText,
);
const fileName = fc.oneof(
  fc.constantFrom('in.txt', '../x', '/etc/passwd', 'a/../../b', 'dir/', '.', 'a\u0000b'),
  shortText,
);
const echo = fc.tuple(fc.constant('echo'), shortText);
export const execParameters = fc.record(
  {
    image: fc.oneof(fc.constant('alpine'), shortText),
    command: echo,
    files: fc.array(fc.record({ name: fileName, content: shortText }), { maxLength: 3 }),
    env: fc.dictionary(names, fc.oneof(shortText, json), { maxKeys: 3 }),
    timeout: duration,
  },
  { requiredKeys: ['command'] },
);
const leafTask = fc.record(
  { id: names, type: fc.constantFrom('transform', 'data', 'ai', 'delay', 'parallel'), parameters: json },
  { requiredKeys: [] },
);

export const PARAMETERS: Record<string, fc.Arbitrary<unknown>> = {
  transform: fc.record({ output: fc.oneof(json, expression) }, { requiredKeys: [] }),
  delay: fc.record({ duration }, { requiredKeys: [] }),
  data: fc.record(
    {
      operation: fc.constantFrom('traverse', 'search', 'enrich', 'drop'),
      query: json,
      text: fc.oneof(shortText, expression),
      top_k: fc.oneof(fc.integer({ min: -5, max: 20_000 }), json),
      collection: shortText,
    },
    { requiredKeys: [] },
  ),
  ai: fc.record(
    {
      prompt: fc.oneof(shortText, expression, json),
      model: shortText,
      response_format: fc.constantFrom('text', 'json', 'xml'),
      max_tokens: fc.oneof(fc.integer(), json),
      temprature: json,
    },
    { requiredKeys: [] },
  ),
  exec: execParameters,
  parallel: fc.record(
    {
      for_each: fc.oneof(fc.array(json, { maxLength: 5 }), expression, json),
      task: leafTask,
      tasks: fc.oneof(fc.array(leafTask, { maxLength: 3 }), json),
      max_items: fc.oneof(fc.integer({ min: -1, max: 20_000 }), json),
    },
    { requiredKeys: [] },
  ),
  condition: json,
  workflow: fc.record(
    {
      template: templateReference,
      workflow: json,
      variables: fc.dictionary(names, json, { maxKeys: 3 }),
    },
    { requiredKeys: [] },
  ),
  approval: fc.record({ message: shortText, approvers: json }, { requiredKeys: [] }),
  nope: json,
};

const task = fc.constantFrom(...Object.keys(PARAMETERS)).chain((type) =>
  fc.record(
    {
      id: names,
      type: fc.constant(type),
      depends_on: fc.oneof(fc.array(names, { maxLength: 3 }), names, json),
      parameters: PARAMETERS[type] as fc.Arbitrary<unknown>,
      timeout: duration,
      condition: expression,
      on_success: fc.oneof(fc.array(names, { maxLength: 2 }), names),
      retry_policy: fc.oneof(
        fc.record({ max_retries: fc.integer({ min: -1, max: 3 }), initial_delay: duration }, { requiredKeys: [] }),
        json,
      ),
      trigger_rule: fc.constantFrom('all_success', 'all_done', 'one_success', 'sometimes'),
      continue_on_failure: fc.oneof(fc.boolean(), json),
    },
    { requiredKeys: ['id', 'type'] },
  ),
);

const workflow = fc.record(
  {
    id: fc.oneof(names, json),
    tasks: fc.oneof({ weight: 9, arbitrary: fc.array(task, { maxLength: 5 }) }, json),
    variables: fc.oneof(fc.dictionary(names, json, { maxKeys: 3 }), json),
    timeout: duration,
    fail_fast: fc.oneof(fc.boolean(), json),
    extra: json,
  },
  { requiredKeys: ['id', 'tasks'] },
);

/** A valid task of a chain `t0, t1, ...`, with generated content where a value is free: these runs execute. */
const RUNNABLE: Record<string, fc.Arbitrary<unknown>> = {
  transform: fc.record({ output: fc.oneof(json, fc.constant('${t0.output}')) }),
  delay: fc.record({ duration: fc.constantFrom('10ms', '50ms') }),
  data: fc.record({ operation: fc.constant('search'), text: shortText, top_k: fc.integer({ min: 1, max: 5 }) }),
  ai: fc.record({
    prompt: fc.string({ minLength: 1, maxLength: 30 }),
    response_format: fc.constantFrom('text', 'json'),
  }),
  exec: fc.record({ image: fc.constant('alpine'), command: echo }),
  parallel: fc.record({
    for_each: fc.array(json, { maxLength: 4 }),
    task: fc.record({ type: fc.constant('transform'), parameters: fc.constant({ output: '${item}' }) }),
  }),
};
const runnable = fc
  .array(fc.constantFrom(...Object.keys(RUNNABLE)), { minLength: 1, maxLength: 4 })
  .chain((types) =>
    fc.tuple(
      ...types.map((type, i) =>
        fc.record({
          id: fc.constant(`t${i}`),
          type: fc.constant(type),
          // the first task's output is read only by tasks that depend on it
          depends_on: i === 0 ? fc.constant([]) : fc.constant(['t0']),
          parameters: RUNNABLE[type] as fc.Arbitrary<unknown>,
        }),
      ),
    ),
  )
  .map((tasks) => ({ id: 'runnable', tasks }));

/** An envelope as submit expects it, around a workflow that is as often runnable as hostile. */
const wellFormed = fc.record(
  {
    correlation_id: fc.string({ minLength: 1, maxLength: 20, unit: fc.constantFrom('a', 'b', '1', '-', '_') }),
    workflow: fc.oneof(runnable, workflow),
    variables: fc.dictionary(names, json, { maxKeys: 2 }),
  },
  { requiredKeys: ['correlation_id', 'workflow'] },
);

/** A submission (HTTP body or bus message): envelope fields of every route, each there or not. */
const anyEnvelope = fc.record(
  {
    correlation_id: fc.oneof(shortText, json),
    workflow: fc.oneof(workflow, runnable),
    workflow_template: templateReference,
    template: json,
    variables: fc.oneof(fc.dictionary(names, json, { maxKeys: 4 }), json),
    cron: fc.constantFrom('* * * * *', '*/5 * * * * *', 'every day', ''),
    id: names,
    prompt: shortText,
    payload: json,
  },
  { requiredKeys: [] },
);

export const submission = fc.oneof(wellFormed, anyEnvelope);

export const bodyText = fc.oneof(
  { weight: 6, arbitrary: submission.map((s) => JSON.stringify(s)) },
  { weight: 2, arbitrary: json.map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: anyText },
  { weight: 1, arbitrary: deepText.map((d) => `{"workflow": ${d}}`) },
);
