/**
 * How deep a request's JSON may nest. Parsing takes any depth, but the gateway's own walks
 * (the cache key's canonical JSON, translation, guards, the trace's encoding) recurse, and a
 * body of a few thousand nested arrays overflowed the stack of one of them: a 500 and a
 * lost trace for what is a caller's error. Real requests nest about 10 levels (a JSON
 * schema in a tool definition perhaps 20).
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether a parsed JSON value nests objects/arrays more than `max` levels deep. Stops at the
 * first branch that does, so its own recursion never goes deeper than `max`.
 */
export function nestsDeeperThan(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (max === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (nestsDeeperThan(item, max - 1)) return true;
    return false;
  }
  for (const key in value) if (nestsDeeperThan((value as Record<string, unknown>)[key], max - 1)) return true;
  return false;
}
