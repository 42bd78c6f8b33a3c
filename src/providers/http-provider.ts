/**
 * The shared HTTP executor: runs a {@link WireAdapter} over a keep-alive undici pool, with
 * the time-to-first-byte timeout, abort on client disconnect, SSE framing and error mapping
 * done once for every HTTP provider.
 */
import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import { mib } from '../bytes.js';
import type { ChatRequest, EmbeddingsRequest } from '../canonical.js';
import { LlmopsError } from '../errors.js';
import { parseSse, SseEventTooLargeError, SseStreamTooLongError } from '../sse.js';
import type {
  CallOptions,
  ChatResult,
  EmbeddingsResult,
  HttpRequestSpec,
  Provider,
  ProviderType,
  StreamPart,
  WireAdapter,
} from './types.js';
import { transportError, type UpstreamHeaders } from './upstream-error.js';

export interface HttpProviderOptions {
  name: string;
  type: ProviderType;
  adapter: WireAdapter;
  /** Max open connections per upstream origin. */
  connections?: number;
  /** The most one answer may hold, whole or streamed; default {@link MAX_ANSWER_BYTES}. */
  maxAnswerBytes?: number;
}

/**
 * The most one upstream answer may hold: 256 MiB (the largest real ones, embeddings of a
 * 2,048-input batch at 3,072 dimensions, are about 125 MB of JSON; a 100,000-token stream is
 * about 25 MB of SSE). Past it the answer is refused as `upstream_bad_response` rather than
 * gathered: a 600 MB answer outgrew the longest string V8 can make, and the call then never
 * settled; a stream that never ends would grow the text kept for the trace without bound.
 */
export const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

type ResponseData = Dispatcher.ResponseData;

export class HttpProvider implements Provider {
  readonly name: string;
  readonly type: ProviderType;
  private readonly adapter: WireAdapter;
  private readonly agent: Agent;
  private readonly targets = new Map<string, { origin: string; path: string }>();
  private readonly maxAnswerBytes: number;

  constructor(opts: HttpProviderOptions) {
    this.name = opts.name;
    this.type = opts.type;
    this.adapter = opts.adapter;
    this.maxAnswerBytes = opts.maxAnswerBytes ?? MAX_ANSWER_BYTES;
    this.agent = new Agent({
      connections: opts.connections ?? 256,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      // Streams may pause for a long time between tokens; the total timeout bounds them.
      bodyTimeout: 0,
      // Our own time-to-first-byte timer bounds the wait for headers. undici's would add a
      // timer object per request that lives until its next one-second sweep (and so is
      // promoted to the old generation under load).
      headersTimeout: 0,
    });
  }

  async chat(req: ChatRequest, model: string, opts: CallOptions): Promise<ChatResult> {
    const { body, text } = await this.fetchJson(this.adapter.chatRequest(req, model, false, opts.native), opts);
    const result = this.adapter.chatResponse(body, model);
    if (result.native && result.native.body === body) result.native.text = text;
    return result;
  }

  async chatStream(req: ChatRequest, model: string, opts: CallOptions): Promise<AsyncIterator<StreamPart>> {
    const res = await this.send(this.adapter.chatRequest(req, model, true, opts.native), opts);
    const decoder = this.adapter.streamDecoder(model, req);
    const name = this.name;
    const maxBytes = this.maxAnswerBytes;
    async function* parts(): AsyncGenerator<StreamPart> {
      try {
        for await (const ev of parseSse(res.body, maxBytes)) {
          for (const part of decoder.event(ev)) yield part;
        }
        for (const part of decoder.end()) yield part;
      } catch (err) {
        if (err instanceof LlmopsError) throw err;
        if (err instanceof SseEventTooLargeError || err instanceof SseStreamTooLongError) {
          throw new LlmopsError('upstream_bad_response', `${name}: ${err.message}`, { provider: name, cause: err });
        }
        if (err instanceof undiciErrors.BodyTimeoutError) {
          throw new LlmopsError('upstream_timeout', `${name}: the stream stalled: nothing for ${opts.streamIdleTimeoutMs} ms (stream_idle_timeout_ms)`, {
            provider: name,
            cause: err,
          });
        }
        const e = transportError(name, err, opts.attempt);
        if (e.code === 'client_closed_request') throw e;
        throw new LlmopsError('upstream_stream_error', `${name}: the upstream stream broke (${e.message})`, {
          provider: name,
          cause: err,
        });
      } finally {
        if (!res.body.destroyed) res.body.destroy();
      }
    }
    return parts();
  }

  async embeddings(req: EmbeddingsRequest, model: string, opts: CallOptions): Promise<EmbeddingsResult> {
    const build = this.adapter.embeddingsRequest;
    const parse = this.adapter.embeddingsResponse;
    if (!build || !parse) {
      throw new LlmopsError('unsupported_parameter', `provider '${this.name}' (${this.type}) does not offer embeddings`, {
        param: 'model',
      });
    }
    return parse.call(this.adapter, (await this.fetchJson(build.call(this.adapter, req, model), opts)).body, model);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /**
   * Origin and path of an upstream URL, parsed once per distinct URL. Calling the agent with
   * them (rather than the top-level `request(url)`) also keeps undici from promoting
   * per-request objects to the old generation, which showed in GC pauses under load.
   */
  private target(url: string): { origin: string; path: string } {
    let t = this.targets.get(url);
    if (!t) {
      const u = new URL(url);
      t = { origin: u.origin, path: u.pathname + u.search };
      if (this.targets.size >= 1000) this.targets.clear();
      this.targets.set(url, t);
    }
    return t;
  }

  /**
   * Sends a request whose answer is streamed (SSE). The time-to-first-byte limit is our own
   * timer (undici's `headersTimeout` only has one-second resolution); it aborts the attempt
   * and stops once headers arrive. The attempt's signal then governs the body.
   */
  private async send(spec: HttpRequestSpec, opts: CallOptions): Promise<ResponseData> {
    const timer = ttfbTimer(this.name, opts);
    let res: ResponseData;
    try {
      const { origin, path } = this.target(spec.url);
      const idle = opts.streamIdleTimeoutMs ?? 0;
      res = await this.agent.request({
        origin,
        path,
        method: 'POST',
        headers: spec.headers,
        body: spec.body,
        signal: opts.attempt.signal,
        // undici's body timeout is the time between two pieces of the body: a stream's silence.
        ...(idle > 0 ? { bodyTimeout: idle } : {}),
      });
    } catch (err) {
      throw transportError(this.name, err, opts.attempt);
    } finally {
      clearTimeout(timer);
    }
    if (res.statusCode >= 400) {
      let text = '';
      try {
        text = await res.body.text();
      } catch (err) {
        throw transportError(this.name, err, opts.attempt);
      }
      throw this.adapter.error(res.statusCode, text, res.headers);
    }
    return res;
  }

  /**
   * Sends a request whose answer is read whole (chat without streaming, embeddings) and
   * parses it. Runs on undici's dispatch API: the body is gathered as buffers by a small
   * handler, without the request API's readable stream and async-resource bookkeeping that
   * a streamed body needs (about a tenth of the gateway's per-call cost under load).
   */
  private async fetchJson(spec: HttpRequestSpec, opts: CallOptions): Promise<{ body: unknown; text: string }> {
    if (opts.attempt.aborted) throw transportError(this.name, opts.attempt.reason, opts.attempt);
    const { origin, path } = this.target(spec.url);
    const answer = await new Promise<WholeAnswer>((resolve, reject) => {
      const handler = new WholeAnswerHandler(this.name, opts, this.maxAnswerBytes, resolve, reject);
      try {
        this.agent.dispatch({ origin, path, method: 'POST', headers: spec.headers, body: spec.body }, handler);
      } catch (err) {
        handler.onResponseError(undefined, err as Error);
      }
    });
    if (answer.status >= 400) throw this.adapter.error(answer.status, answer.text, answer.headers);
    try {
      return { body: JSON.parse(answer.text) as unknown, text: answer.text };
    } catch (err) {
      throw new LlmopsError('upstream_bad_response', `${this.name}: the upstream answered with invalid JSON`, {
        provider: this.name,
        cause: err,
      });
    }
  }
}

interface WholeAnswer {
  status: number;
  headers: UpstreamHeaders;
  text: string;
}

/**
 * Gathers one upstream answer for {@link HttpProvider.fetchJson}: the time-to-first-byte
 * timer runs until the headers arrive; aborting the attempt aborts the request at any point.
 */
class WholeAnswerHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private headers: UpstreamHeaders = {};
  private chunks: Buffer[] = [];
  private bytes = 0;
  private readonly ttfb: NodeJS.Timeout;
  private settled = false;
  private readonly offAbort: () => void;

  constructor(
    private readonly provider: string,
    private readonly opts: CallOptions,
    private readonly maxBytes: number,
    private readonly resolve: (a: WholeAnswer) => void,
    private readonly reject: (err: LlmopsError) => void,
  ) {
    this.ttfb = ttfbTimer(provider, opts);
    this.offAbort = opts.attempt.onAbort(() => this.controller?.abort(abortReason(opts.attempt)));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.opts.attempt.aborted) controller.abort(abortReason(this.opts.attempt));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: UpstreamHeaders): void {
    clearTimeout(this.ttfb);
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.bytes <= this.maxBytes) {
      this.chunks.push(chunk);
      return;
    }
    this.chunks = [];
    controller.abort(new LlmopsError('upstream_bad_response', `${this.provider}: the upstream's answer is larger than ${mib(this.maxBytes)} MiB`, { provider: this.provider }));
  }

  onResponseEnd(): void {
    if (!this.finish()) return;
    const c = this.chunks;
    let text: string;
    try {
      text = c.length === 1 ? c[0]!.toString('utf8') : Buffer.concat(c).toString('utf8');
    } catch (err) {
      // Whatever goes wrong here must still settle the call: a throw would leave it waiting forever.
      this.reject(new LlmopsError('upstream_bad_response', `${this.provider}: the upstream's answer could not be read`, { provider: this.provider, cause: err }));
      return;
    }
    this.resolve({ status: this.status, headers: this.headers, text });
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    if (this.finish()) this.reject(transportError(this.provider, err, this.opts.attempt));
  }

  /** Stops the timer and the abort listener; false when the answer was already settled. */
  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.ttfb);
    this.offAbort();
    return true;
  }
}

/** The time-to-first-byte limit: aborts the attempt unless cleared when the headers arrive. */
function ttfbTimer(provider: string, opts: CallOptions): NodeJS.Timeout {
  return setTimeout(() => {
    opts.attempt.abort(
      new LlmopsError('upstream_timeout', `${provider}: no response headers within ${opts.ttfbTimeoutMs} ms (time-to-first-byte timeout)`, { provider }),
    );
  }, opts.ttfbTimeoutMs);
}

/** The error an aborted attempt carries, as an Error for undici. */
function abortReason(attempt: { readonly reason?: unknown }): Error {
  const r: unknown = attempt.reason;
  return r instanceof Error ? r : new Error('aborted');
}
