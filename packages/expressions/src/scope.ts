/** Names an expression may read: workflow variables and task results, keyed by name. Only own properties count. */
export type Scope = Readonly<Record<string, unknown>>;
