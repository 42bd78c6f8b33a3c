/**
 * Provider types → factories. Adding a provider type is one folder under `providers/`
 * and one line here; an OpenAI-compatible server is one preset entry instead.
 */
import type { ProviderConfig } from '../config/schema.js';
import { createAnthropicProvider } from './anthropic/index.js';
import { createAzureOpenAIProvider } from './azure-openai/index.js';
import { DemoProvider } from './demo/index.js';
import { createGeminiProvider } from './gemini/index.js';
import { createOpenAICompatibleProvider } from './openai-compatible/index.js';
import { createOpenAIProvider } from './openai/index.js';
import type { Provider } from './types.js';

type Factories = { [T in ProviderConfig['type']]: (name: string, cfg: Extract<ProviderConfig, { type: T }>) => Provider };

const FACTORIES: Factories = {
  openai: (name, cfg) => createOpenAIProvider(name, cfg),
  'openai-compatible': (name, cfg) => createOpenAICompatibleProvider(name, cfg),
  'azure-openai': (name, cfg) => createAzureOpenAIProvider(name, cfg),
  anthropic: (name, cfg) => createAnthropicProvider(name, cfg),
  gemini: (name, cfg) => createGeminiProvider(name, cfg),
  demo: (name, cfg) => new DemoProvider(name, cfg),
};

export function createProvider(name: string, cfg: ProviderConfig): Provider {
  const factory = FACTORIES[cfg.type] as (name: string, cfg: ProviderConfig) => Provider;
  return factory(name, cfg);
}

export function createProviders(configs: Record<string, ProviderConfig>): Map<string, Provider> {
  return new Map(Object.entries(configs).map(([name, cfg]) => [name, createProvider(name, cfg)]));
}
