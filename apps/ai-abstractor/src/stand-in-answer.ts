import { createHash } from 'node:crypto';
import type { AiParameters, AiResult } from './ai-request';

const STOP_WORDS = new Set(
  'about above after again against answer article because before being below between could their there these those through under until which while would with within without write this that from have what when where your into them they then than json string strings list fields field'.split(
    ' ',
  ),
);

const TREND_TEMPLATES = [
  (k: string) => `Activity around ${k} is growing`,
  (k: string) => `${capitalise(k)} connects most of the other entities`,
  (k: string) => `Interest in ${k} is steady across sources`,
  (k: string) => `${capitalise(k)} appears in the most similar documents`,
];

/**
 * A deterministic answer for when no model is configured: the same prompt always gets the same reply, derived
 * from its hash and its most frequent words. JSON answers carry every field the built-in templates read
 * (`summary`, `trends`, `score`, `issues`, `title`, `description`, `keywords`); `score` is 0.85 so quality gates pass.
 */
export function standInAnswer(params: AiParameters): AiResult {
  const input = `${params.system ?? ''}\n${params.prompt}`;
  const digest = createHash('sha256').update(input).digest();
  const id = digest.toString('hex').slice(0, 8);
  const keywords = topWords(params.prompt, 5);
  const subject = keywords.slice(0, 3).join(', ') || 'the input';
  let text: string;
  let json: Record<string, unknown> | undefined;
  if (params.response_format === 'json') {
    const offset = (digest[0] as number) % TREND_TEMPLATES.length;
    json = {
      summary: `Stand-in analysis ${id}: the input is mostly about ${subject}.`,
      trends: keywords
        .slice(0, 3)
        .map((word, i) => (TREND_TEMPLATES[(offset + i) % TREND_TEMPLATES.length] as (k: string) => string)(word)),
      score: 0.85,
      issues: [`Stand-in review ${id}: no language model checked this text.`],
      title: keywords.length ? keywords.slice(0, 3).map(capitalise).join(' ') : `Untitled ${id}`,
      description: `A deterministic stand-in description (${id}) covering ${subject}.`,
      keywords,
    };
    text = JSON.stringify(json);
  } else {
    const excerpt = params.prompt.replace(/\s+/g, ' ').trim().slice(0, 200);
    text = [
      `Stand-in answer ${id} (no language model was called).`,
      `Main points: ${subject}.`,
      `Prompt excerpt: ${excerpt}`,
    ].join('\n');
    if (params.max_tokens) text = text.slice(0, params.max_tokens * 4);
  }
  return {
    text,
    ...(json ? { json } : {}),
    model: params.model ?? 'stand-in',
    provider: 'stand-in',
    usage: { prompt_tokens: Math.ceil(input.length / 4), completion_tokens: Math.ceil(text.length / 4) },
    stand_in: true,
  };
}

/** The `count` most frequent words of four letters or more, ties in order of first appearance. */
function topWords(text: string, count: number): string[] {
  const counts = new Map<string, number>();
  for (const word of text.toLowerCase().match(/[\p{L}][\p{L}\p{N}-]{3,}/gu) ?? []) {
    if (!STOP_WORDS.has(word)) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([word]) => word);
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
