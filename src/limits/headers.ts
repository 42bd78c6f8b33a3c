/** OpenAI-style rate-limit response headers (`x-ratelimit-*`), from the tightest limit that applied. */
import type { RateStatus } from './state.js';

/** A duration the way OpenAI writes it: `20ms`, `1.5s`, `6m0s`. */
export function formatReset(ms: number): string {
  const t = Math.max(0, Math.ceil(ms));
  if (t < 1000) return `${t}ms`;
  const min = Math.floor(t / 60_000);
  const sec = (t - min * 60_000) / 1000;
  const s = Number.isInteger(sec) ? String(sec) : sec.toFixed(3).replace(/0+$/, '');
  return min > 0 ? `${min}m${s}s` : `${s}s`;
}

export function setRateHeaders(headers: Record<string, string>, unit: 'requests' | 'tokens', limit: number, status: RateStatus): void {
  headers[`x-ratelimit-limit-${unit}`] = String(limit);
  headers[`x-ratelimit-remaining-${unit}`] = String(status.remaining);
  headers[`x-ratelimit-reset-${unit}`] = formatReset(status.resetMs);
}
