/**
 * The data-abstractor stand-in's bundled data: a small property graph (people, companies, projects, topics) and
 * a `documents` collection for vector search. Small enough to read, varied enough that the built-in templates
 * produce rows with several labels and non-trivial similarity rankings.
 */

export interface GraphNode {
  id: string;
  labels: string[];
  properties: Record<string, unknown>;
}

export interface GraphRelationship {
  id: string;
  type: string;
  start: string;
  end: string;
  properties: Record<string, unknown>;
}

export interface SampleDocument {
  id: string;
  text: string;
  metadata: Record<string, unknown>;
}

const node = (id: string, labels: string[], properties: Record<string, unknown>): GraphNode => ({
  id,
  labels,
  properties,
});

export const SAMPLE_NODES: GraphNode[] = [
  node('p1', ['Person'], { name: 'Ada', role: 'data engineer' }),
  node('p2', ['Person'], { name: 'Grace', role: 'platform lead' }),
  node('p3', ['Person'], { name: 'Linus', role: 'site reliability engineer' }),
  node('p4', ['Person'], { name: 'Margaret', role: 'ml engineer' }),
  node('c1', ['Company'], { name: 'Acme Analytics', industry: 'analytics', founded: 2014 }),
  node('c2', ['Company'], { name: 'Globex Cloud', industry: 'cloud', founded: 2009 }),
  node('j1', ['Project'], { name: 'Orchestrator', language: 'TypeScript', stars: 1200 }),
  node('j2', ['Project'], { name: 'Atlas Search', language: 'Go', stars: 860 }),
  node('j3', ['Project'], { name: 'Ledger Graph', language: 'Python', stars: 310 }),
  node('t1', ['Topic'], { name: 'workflow orchestration' }),
  node('t2', ['Topic'], { name: 'vector search' }),
  node('t3', ['Topic'], { name: 'graph databases' }),
];

let relationshipCount = 0;
const rel = (type: string, start: string, end: string, properties: Record<string, unknown> = {}) => ({
  id: `r${++relationshipCount}`,
  type,
  start,
  end,
  properties,
});

export const SAMPLE_RELATIONSHIPS: GraphRelationship[] = [
  rel('WORKS_AT', 'p1', 'c1', { since: 2019 }),
  rel('WORKS_AT', 'p2', 'c1', { since: 2016 }),
  rel('WORKS_AT', 'p3', 'c2', { since: 2021 }),
  rel('WORKS_AT', 'p4', 'c2', { since: 2020 }),
  rel('KNOWS', 'p1', 'p2'),
  rel('KNOWS', 'p2', 'p3'),
  rel('KNOWS', 'p4', 'p1'),
  rel('CONTRIBUTES_TO', 'p1', 'j1', { commits: 340 }),
  rel('CONTRIBUTES_TO', 'p2', 'j1', { commits: 512 }),
  rel('CONTRIBUTES_TO', 'p3', 'j2', { commits: 97 }),
  rel('CONTRIBUTES_TO', 'p4', 'j2', { commits: 211 }),
  rel('CONTRIBUTES_TO', 'p4', 'j3', { commits: 45 }),
  rel('MAINTAINS', 'c1', 'j1'),
  rel('MAINTAINS', 'c2', 'j2'),
  rel('ABOUT', 'j1', 't1'),
  rel('ABOUT', 'j2', 't2'),
  rel('ABOUT', 'j3', 't3'),
  rel('USES', 'j1', 'j2'),
];

export const SAMPLE_DOCUMENTS: Record<string, SampleDocument[]> = {
  documents: [
    {
      id: 'doc-1',
      text: 'Workflow orchestration schedules tasks of a directed acyclic graph and retries failed steps',
      metadata: { source: 'handbook', topic: 'workflow orchestration' },
    },
    {
      id: 'doc-2',
      text: 'A workflow engine on Redis queues runs tasks on horizontally scaled workers',
      metadata: { source: 'blog', topic: 'workflow orchestration' },
    },
    {
      id: 'doc-3',
      text: 'Vector search ranks documents by the cosine similarity of their embeddings',
      metadata: { source: 'handbook', topic: 'vector search' },
    },
    {
      id: 'doc-4',
      text: 'Approximate nearest neighbour indexes make vector search fast on millions of embeddings',
      metadata: { source: 'paper', topic: 'vector search' },
    },
    {
      id: 'doc-5',
      text: 'Graph databases store nodes and relationships and answer traversal queries in Cypher',
      metadata: { source: 'handbook', topic: 'graph databases' },
    },
    {
      id: 'doc-6',
      text: 'Knowledge graphs link people companies and projects for analytics',
      metadata: { source: 'blog', topic: 'graph databases' },
    },
    {
      id: 'doc-7',
      text: 'Data pipelines combine graph traversal vector search and language models into reports',
      metadata: { source: 'case study', topic: 'data analysis' },
    },
    {
      id: 'doc-8',
      text: 'Retries with exponential backoff and jitter keep transient failures from failing a whole run',
      metadata: { source: 'handbook', topic: 'reliability' },
    },
    {
      id: 'doc-9',
      text: 'Containers isolate data processing steps and mount their inputs read only',
      metadata: { source: 'blog', topic: 'execution' },
    },
    {
      id: 'doc-10',
      text: 'Language models summarise analysis results and identify trends in the data',
      metadata: { source: 'case study', topic: 'ai' },
    },
  ],
};
