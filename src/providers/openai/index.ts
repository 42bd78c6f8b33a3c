/** The `openai` provider: api.openai.com (or any base_url speaking its API exactly). */
import { HttpProvider } from '../http-provider.js';
import type { Provider } from '../types.js';
import { openAIAdapter } from './adapter.js';

export interface OpenAIProviderConfig {
  api_key?: string | undefined;
  base_url?: string | undefined;
  organization?: string | undefined;
  project?: string | undefined;
  headers?: Record<string, string> | undefined;
  stream_usage?: boolean | undefined;
}

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

export function createOpenAIProvider(name: string, cfg: OpenAIProviderConfig, type: 'openai' | 'openai-compatible' = 'openai'): Provider {
  const base = (cfg.base_url ?? OPENAI_BASE_URL).replace(/\/+$/, '');
  const headers: Record<string, string> = { ...(cfg.headers ?? {}) };
  if (cfg.api_key) headers.authorization = `Bearer ${cfg.api_key}`;
  if (cfg.organization) headers['openai-organization'] = cfg.organization;
  if (cfg.project) headers['openai-project'] = cfg.project;
  return new HttpProvider({
    name,
    type,
    adapter: openAIAdapter({
      name,
      chatUrl: () => `${base}/chat/completions`,
      embeddingsUrl: () => `${base}/embeddings`,
      headers,
      streamUsage: cfg.stream_usage ?? true,
    }),
  });
}
