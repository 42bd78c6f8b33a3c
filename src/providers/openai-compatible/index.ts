/** The `openai-compatible` provider: any server speaking OpenAI's API at a `base_url`. */
import { LlmopsError } from '../../errors.js';
import { createOpenAIProvider, type OpenAIProviderConfig } from '../openai/index.js';
import type { Provider } from '../types.js';
import { isPresetName, OPENAI_COMPATIBLE_PRESETS } from './presets.js';

export interface OpenAICompatibleProviderConfig extends OpenAIProviderConfig {
  preset?: string | undefined;
}

export function createOpenAICompatibleProvider(name: string, cfg: OpenAICompatibleProviderConfig): Provider {
  const presetName = cfg.preset ?? (isPresetName(name) ? name : undefined);
  const preset = presetName !== undefined && isPresetName(presetName) ? OPENAI_COMPATIBLE_PRESETS[presetName] : undefined;
  const baseUrl = cfg.base_url ?? preset?.base_url;
  if (!baseUrl) {
    throw new LlmopsError('invalid_request', `provider '${name}': openai-compatible needs base_url or a known preset`);
  }
  return createOpenAIProvider(
    name,
    { ...cfg, base_url: baseUrl, stream_usage: cfg.stream_usage ?? preset?.stream_usage ?? true },
    'openai-compatible',
  );
}
