/**
 * Provider types → factories. Adding a provider type is one folder under `providers/`
 * and one line here; an OpenAI-compatible server is one preset entry instead.
 */
import type { ProviderConfig } from '../config/schema.js';
import { createAzureOpenAIProvider } from './azure-openai/index.js';
import { DemoProvider } from './demo/index.js';
import { createOpenAICompatibleProvider } from './openai-compatible/index.js';
import { createOpenAIProvider } from './openai/index.js';
import type { Provider } from './types.js';

type Factories = { [T in Exclude<ProviderConfig['type'], 'anthropic' | 'gemini'>]: (name: string, cfg: Extract<ProviderConfig, { type: T }>) => Provider };

const FACTORIES: Factories = {
  openai: (name, cfg) => createOpenAIProvider(name, cfg),
  'openai-compatible': (name, cfg) => createOpenAICompatibleProvider(name, cfg),
  'azure-openai': (name, cfg) => createAzureOpenAIProvider(name, cfg),
  demo: (name, cfg) => new DemoProvider(name, cfg),
};

export function createProvider(name: string, cfg: ProviderConfig): Provider {
  const factory = (FACTORIES as Record<string, ((name: string, cfg: ProviderConfig) => Provider) | undefined>)[cfg.type];
  if (!factory) throw new Error(`provider type '${cfg.type}' is not available yet`);
  return factory(name, cfg);
}

export function createProviders(configs: Record<string, ProviderConfig>): Map<string, Provider> {
  return new Map(Object.entries(configs).map(([name, cfg]) => [name, createProvider(name, cfg)]));
}
