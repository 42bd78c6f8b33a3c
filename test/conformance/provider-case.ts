/** What the provider conformance suite needs to know about one provider. */
import type { ChatRequest } from '../../src/canonical.js';
import type { Provider } from '../../src/providers/types.js';
import type { MockDialect, RecordedRequest } from '../mock-upstreams/scenario.js';

/** The requests the suite sends, by name, so a case can check how its provider translated each. */
export type SuiteRequest = 'basic' | 'tools' | 'tool-result' | 'image';

export interface ProviderCase {
  name: string;
  dialect: MockDialect;
  /** A provider pointed at the mock upstream's base URL. */
  create(baseUrl: string): Provider;
  model: string;
  supports: { embeddings: boolean; cachedTokens: boolean; reasoningTokens: boolean; cacheWriteTokens: boolean };
  /** Asserts (with expect) that the upstream got a faithful translation of `request`. */
  checkUpstreamRequest(kind: SuiteRequest, request: ChatRequest, upstream: RecordedRequest, stream: boolean): void;
}
