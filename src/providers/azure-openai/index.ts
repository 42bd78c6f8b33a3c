/**
 * The `azure-openai` provider: Azure OpenAI deployments. The target's model names the
 * deployment (or is mapped to one with `deployments`); auth is the `api-key` header.
 */
import { HttpProvider } from '../http-provider.js';
import { openAIAdapter } from '../openai/adapter.js';
import type { Provider } from '../types.js';

export interface AzureOpenAIProviderConfig {
  api_key?: string | undefined;
  /** e.g. https://my-resource.openai.azure.com */
  base_url: string;
  api_version?: string | undefined;
  /** Model name → deployment name; a model not listed is used as the deployment name. */
  deployments?: Record<string, string> | undefined;
  headers?: Record<string, string> | undefined;
}

export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

export function createAzureOpenAIProvider(name: string, cfg: AzureOpenAIProviderConfig): Provider {
  const base = cfg.base_url.replace(/\/+$/, '');
  const version = encodeURIComponent(cfg.api_version ?? AZURE_DEFAULT_API_VERSION);
  const deployment = (model: string): string => encodeURIComponent(cfg.deployments?.[model] ?? model);
  const headers: Record<string, string> = { ...(cfg.headers ?? {}) };
  if (cfg.api_key) headers['api-key'] = cfg.api_key;
  return new HttpProvider({
    name,
    type: 'azure-openai',
    adapter: openAIAdapter({
      name,
      chatUrl: (model) => `${base}/openai/deployments/${deployment(model)}/chat/completions?api-version=${version}`,
      embeddingsUrl: (model) => `${base}/openai/deployments/${deployment(model)}/embeddings?api-version=${version}`,
      headers,
      streamUsage: true,
    }),
  });
}
