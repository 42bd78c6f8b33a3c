/** Turns a zod failure into one precise 400 error naming the field (`messages[2].role: ...`). */
import type { z } from 'zod';
import { LlmopsError } from '../errors.js';

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

export function validationError(error: z.ZodError): LlmopsError {
  // Prefer the deepest issue: for unions zod reports the branch that came closest.
  const issue = error.issues[0]!;
  let path = issue.path;
  let message = issue.message;
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const best = issue.errors.flat().sort((a, b) => b.path.length - a.path.length)[0];
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
