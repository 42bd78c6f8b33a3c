/**
 * OTLP ingest, framework-free: decoded resource spans become trace records pushed to the
 * trace sink (so they are batched and stored like gateway calls, and seen by every sink
 * listener). Invalid spans are rejected one by one and reported as a partial success;
 * the rest of the request is kept.
 */
import type { TraceSink } from '../traces/trace-sink.js';
import type { DecodedResourceSpans } from './otlp-codec.js';
import { spanToRecord, type SpanCaller, type SpanRecordDeps } from './span-record.js';

export interface IngestStats {
  /** Export requests answered (any outcome after authentication). */
  requests: number;
  /** Requests refused as undecodable (HTTP 400/415). */
  badRequests: number;
  accepted: number;
  rejected: number;
  /** Spans already received (a sender retrying an export): acknowledged, not stored twice. */
  duplicates: number;
}

export interface IngestResult {
  accepted: number;
  rejected: number;
  /** Why spans were rejected (the first few reasons); '' when none were. */
  message: string;
}

export interface OtlpIngestDeps extends SpanRecordDeps {
  sink: TraceSink;
}

const MAX_REASONS = 3;
/** Span ids remembered to recognise retried exports (OTLP senders retry on timeouts and 5xx). */
const RECENT_SPAN_IDS = 50_000;

export class OtlpIngest {
  readonly stats: IngestStats = { requests: 0, badRequests: 0, accepted: 0, rejected: 0, duplicates: 0 };
  /** Recently stored span ids, oldest first (a Set keeps insertion order). */
  private readonly recent = new Set<string>();

  constructor(private readonly deps: OtlpIngestDeps) {}

  /**
   * Records every valid span of one export request; never throws for bad spans.
   * @example
   * const { accepted, rejected, message } = ingest.ingest(decodeTraceRequest(body, 'json'), caller);
   */
  ingest(resourceSpans: readonly DecodedResourceSpans[], caller: SpanCaller): IngestResult {
    this.stats.requests++;
    let accepted = 0;
    let rejected = 0;
    const reasons: string[] = [];
    const seen = new Set<string>();
    const reject = (reason: string): void => {
      rejected++;
      if (reasons.length < MAX_REASONS) reasons.push(reason);
    };
    for (const rs of resourceSpans) {
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          const r = spanToRecord(span, rs.resource, ss.scope.name, caller, this.deps);
          if (!r.ok) {
            reject(r.reason);
            continue;
          }
          // The span id is the record's id: a second span with the same id in one request is refused.
          if (seen.has(r.record.id)) {
            reject(`duplicate span id ${r.record.id}`);
            continue;
          }
          seen.add(r.record.id);
          // A retried export: the span is already stored; acknowledge it without a second copy.
          if (this.recent.has(r.record.id)) {
            this.stats.duplicates++;
            accepted++;
            continue;
          }
          this.remember(r.record.id);
          this.deps.sink.push(r.record);
          accepted++;
        }
      }
    }
    this.stats.accepted += accepted;
    this.stats.rejected += rejected;
    const more = rejected > reasons.length ? ` (and ${rejected - reasons.length} more)` : '';
    return { accepted, rejected, message: rejected > 0 ? `${rejected} span(s) rejected: ${reasons.join('; ')}${more}` : '' };
  }

  private remember(id: string): void {
    this.recent.add(id);
    if (this.recent.size > RECENT_SPAN_IDS) {
      const oldest = this.recent.values().next();
      if (!oldest.done) this.recent.delete(oldest.value);
    }
  }
}
