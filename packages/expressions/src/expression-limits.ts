/** Hard limits that keep hostile or accidental pathological input from costing real CPU or stack. */
export const EXPRESSION_LIMITS = {
  maxSourceLength: 4096,
  maxAstDepth: 64,
  maxCachedExpressions: 5000,
  maxRange: 10_000,
} as const;
