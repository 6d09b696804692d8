/** `ORCHESTRATOR_BODY_LIMIT` (`512kb`, `1mb`, ...) in bytes; the config schema allows only these forms. */
export function byteLimit(limit: string): number {
  const match = /^(\d+)(b|kb|mb)$/.exec(limit);
  if (!match) throw new Error(`body limit '${limit}' is not <n>b, <n>kb or <n>mb`);
  return Number(match[1]) * { b: 1, kb: 1024, mb: 1024 * 1024 }[match[2] as 'b' | 'kb' | 'mb'];
}
