/**
 * Writes a cache hit: a non-streamed request gets the stored answer bytes (with a fresh
 * response id); a streamed one gets the answer replayed as a proper SSE stream in the
 * inbound format (OpenAI chunks ending in `[DONE]`, or Anthropic events), with a usage
 * chunk when the client asked for `stream_options.include_usage`.
 */
import { usageToOpenAI, type ChatCompletion, type ChatCompletionChunk, type ChatRequest } from '../canonical.js';
import type { RequestContext } from '../pipeline/context.js';
import type { StreamPart } from '../providers/types.js';
import { bodyWithFreshId, freshId, type CacheEntry } from './entry.js';
import type { CacheHit } from './response-cache.js';

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };

export async function writeCachedAnswer(ctx: RequestContext, hit: CacheHit, headers: Record<string, string>): Promise<void> {
  if (!ctx.stream) {
    ctx.http.sendJson(200, bodyWithFreshId(hit.entry), headers);
    return;
  }
  const req = ctx.request?.body as ChatRequest | undefined;
  const encoder = ctx.inbound.streamEncoder(ctx.requestedModel ?? '');
  let text = '';
  for (const p of replayParts(hit.entry, req?.stream_options?.include_usage === true)) text += encoder.part(p);
  text += encoder.end();
  ctx.http.startStream({ ...SSE_HEADERS, ...headers });
  try {
    await ctx.http.write(text);
  } finally {
    ctx.http.end();
  }
}

/** The canonical stream parts that say `entry`'s answer again. */
export function replayParts(entry: CacheEntry, includeUsage: boolean): StreamPart[] {
  const c = JSON.parse(entry.completion) as ChatCompletion;
  const choice = c.choices[0];
  const msg = choice?.message;
  const base = { id: freshId(c.id), object: 'chat.completion.chunk' as const, created: Math.floor(Date.now() / 1000), model: c.model };
  const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: ChatCompletionChunk['choices'][number]['finish_reason']): ChatCompletionChunk => ({
    ...base,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  const usage = entry.usage ?? undefined;
  const parts: StreamPart[] = [{ chunk: chunk({ role: 'assistant', content: '' }, null), ...(usage ? { usage } : {}) }];
  if (msg?.content) parts.push({ chunk: chunk({ content: msg.content }, null) });
  if (msg?.refusal) parts.push({ chunk: chunk({ refusal: msg.refusal }, null) });
  for (const [index, tc] of (msg?.tool_calls ?? []).entries()) {
    parts.push({ chunk: chunk({ tool_calls: [{ index, id: tc.id, type: 'function', function: { name: tc.function.name, arguments: tc.function.arguments } }] }, null) });
  }
  parts.push({ chunk: chunk({}, choice?.finish_reason ?? 'stop') });
  if (includeUsage && usage) parts.push({ chunk: { ...base, choices: [], usage: usageToOpenAI(usage) }, usage });
  return parts;
}
