/** Turns a zod failure into one precise 400 error naming the field (`messages[2].role: ...`). */
import type { z } from 'zod';
import { LlmopsError } from '../errors.js';

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

export function validationError(error: z.ZodError): LlmopsError {
  // For a union, report the branch that came closest: of the right type, with the fewest
  // issues (3,000 strings are one issue from "at most 2048 strings" but 3,000 from "token
  // ids"), then the deepest.
  const issue = error.issues[0]!;
  let path = issue.path;
  let message = issue.message;
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const ranked = issue.errors
      .filter((b) => b.length > 0)
      .map((b) => {
        let deepest = b[0]!;
        for (const i of b) if (i.path.length > deepest.path.length) deepest = i;
        // A branch of another type altogether (a string where an array came) is the farthest.
        const otherType = b.length === 1 && deepest.code === 'invalid_type' && deepest.path.length === 0 ? 1 : 0;
        return { deepest, issues: b.length, otherType };
      })
      .sort((a, b) => a.otherType - b.otherType || a.issues - b.issues || b.deepest.path.length - a.deepest.path.length);
    const best = ranked[0]?.deepest;
    if (best) {
      path = [...issue.path, ...best.path];
      message = best.message;
    }
  }
  const param = formatPath(path);
  return new LlmopsError('invalid_request', `Invalid request: ${param ? `${param}: ` : ''}${message}`, { param: param || null });
}

/** Parses with a schema or throws the 400 error. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const r = schema.safeParse(body);
  if (!r.success) throw validationError(r.error);
  return r.data;
}
