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
    const deepest = (branch: readonly z.core.$ZodIssue[]): z.core.$ZodIssue | undefined => {
      let found: z.core.$ZodIssue | undefined;
      for (const i of branch) if (!found || i.path.length > found.path.length) found = i;
      return found;
    };
    // A branch of another type altogether (a string where an array came) is the farthest.
    const otherType = (b: readonly z.core.$ZodIssue[]): number => (b.length === 1 && b[0]!.code === 'invalid_type' && b[0]!.path.length === 0 ? 1 : 0);
    const branch = issue.errors
      .filter((b) => b.length > 0)
      .sort((a, b) => otherType(a) - otherType(b) || a.length - b.length || (deepest(b)?.path.length ?? 0) - (deepest(a)?.path.length ?? 0))[0];
    const best = branch && deepest(branch);
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
