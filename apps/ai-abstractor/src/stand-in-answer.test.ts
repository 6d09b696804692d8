import { standInAnswer } from './stand-in-answer';

describe('standInAnswer', () => {
  const prompt = 'Review this article about workflow orchestration and Redis queues. Workflow engines retry tasks.';

  it('is deterministic and marked as a stand-in', () => {
    expect(standInAnswer({ prompt })).toEqual(standInAnswer({ prompt }));
    expect(standInAnswer({ prompt }).text).not.toEqual(standInAnswer({ prompt: `${prompt}!` }).text);
    expect(standInAnswer({ prompt, model: 'm1' })).toMatchObject({ model: 'm1', provider: 'stand-in', stand_in: true });
  });

  it('answers JSON with every field the built-in templates read', () => {
    const answer = standInAnswer({ prompt, response_format: 'json' });
    const json = answer.json as Record<string, unknown>;
    expect(JSON.parse(answer.text)).toEqual(json);
    expect(json).toMatchObject({
      summary: expect.stringContaining('workflow'),
      score: 0.85,
      title: expect.any(String),
      description: expect.any(String),
    });
    expect(json.keywords).toEqual(expect.arrayContaining(['workflow', 'orchestration']));
    expect((json.keywords as string[])[0]).toBe('workflow');
    expect(json.trends).toHaveLength(3);
    expect(json.issues).toEqual([expect.stringMatching(/^Stand-in review [0-9a-f]{8}/)]);
  });

  it('answers text, within max_tokens, with usage counts', () => {
    const answer = standInAnswer({ prompt, max_tokens: 10 });
    expect(answer.json).toBeUndefined();
    expect(answer.text.length).toBeLessThanOrEqual(40);
    expect(answer.usage.prompt_tokens).toBeGreaterThan(0);
    expect(standInAnswer({ prompt }).text).toMatch(/^Stand-in answer [0-9a-f]{8} \(no language model was called\)/);
  });
});
