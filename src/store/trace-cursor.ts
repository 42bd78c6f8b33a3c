/**
 * The opaque cursor of {@link Store.searchTraces}: the (started_at, id) of the last row of
 * a page, as base64url JSON. Pages are ordered by (started_at DESC, id DESC), so the next
 * page is every row strictly below that pair: no duplicates or gaps, even when many rows
 * share one timestamp.
 */
import { LlmopsError } from '../errors.js';

export interface CursorPosition {
  startedAt: number;
  id: string;
}

export function encodeCursor(p: CursorPosition): string {
  return Buffer.from(JSON.stringify([p.startedAt, p.id])).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || !Number.isSafeInteger(parsed[0]) || typeof parsed[1] !== 'string') {
    throw new LlmopsError('invalid_request', 'cursor is not one this server returned', { param: 'cursor' });
  }
  return { startedAt: parsed[0] as number, id: parsed[1] };
}
