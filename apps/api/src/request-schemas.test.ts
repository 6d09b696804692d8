import { byteLimit } from './byte-limit';
import { busRequestBody, requestErrors, submitWorkflowBody, validateBody } from './request-schemas';

describe('requestErrors', () => {
  it('accepts the reference body', () => {
    const body = {
      correlation_id: 'workflow-001',
      workflow_template: 'data-analysis-basic',
      variables: { query_limit: 50, analysis_prompt: 'Identify key trends in the data' },
    };
    expect(requestErrors(submitWorkflowBody, body)).toEqual([]);
    expect(requestErrors(busRequestBody, body)).toEqual([]);
  });

  it('requires correlation_id on the bus only', () => {
    const body = { workflow: { id: 'w', tasks: [] } };
    expect(requestErrors(submitWorkflowBody, body)).toEqual([]);
    expect(requestErrors(busRequestBody, body)).toEqual([{ pointer: '/correlation_id', message: 'is required' }]);
  });

  it('reports a missing or doubled choice as one line', () => {
    expect(requestErrors(validateBody, {})).toEqual([
      { pointer: '', message: 'needs one of workflow_template, template, workflow' },
    ]);
    expect(requestErrors(validateBody, { template: {}, workflow: {} })).toEqual([
      {
        pointer: '/workflow',
        message: 'give only one of workflow_template, template, workflow; got template and workflow',
      },
    ]);
  });

  it('refuses anything but an object', () => {
    for (const value of [null, 'x', 3, [], undefined]) {
      expect(requestErrors(submitWorkflowBody, value)).toEqual([{ pointer: '', message: 'must be a JSON object' }]);
    }
  });
});

describe('byteLimit', () => {
  it('reads the forms ORCHESTRATOR_BODY_LIMIT allows', () => {
    expect(byteLimit('512b')).toBe(512);
    expect(byteLimit('2kb')).toBe(2048);
    expect(byteLimit('1mb')).toBe(1_048_576);
    expect(() => byteLimit('1gb')).toThrow("body limit '1gb' is not <n>b, <n>kb or <n>mb");
  });
});
