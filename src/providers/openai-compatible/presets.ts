/**
 * Presets for `openai-compatible` servers: a provider named after a preset (or with
 * `preset: NAME`) gets its base URL and the environment variable that holds its key.
 * Adding one is one entry here.
 */
export interface OpenAICompatiblePreset {
  base_url: string;
  /** Environment variable read for the API key; absent for local servers without auth. */
  env_key?: string;
  /** Whether the server accepts `stream_options.include_usage`. */
  stream_usage: boolean;
}

export const OPENAI_COMPATIBLE_PRESETS = {
  vllm: { base_url: 'http://127.0.0.1:8000/v1', stream_usage: true },
  ollama: { base_url: 'http://127.0.0.1:11434/v1', stream_usage: true },
  lmstudio: { base_url: 'http://127.0.0.1:1234/v1', stream_usage: true },
  groq: { base_url: 'https://api.groq.com/openai/v1', env_key: 'GROQ_API_KEY', stream_usage: true },
  together: { base_url: 'https://api.together.xyz/v1', env_key: 'TOGETHER_API_KEY', stream_usage: true },
  mistral: { base_url: 'https://api.mistral.ai/v1', env_key: 'MISTRAL_API_KEY', stream_usage: false },
  deepseek: { base_url: 'https://api.deepseek.com/v1', env_key: 'DEEPSEEK_API_KEY', stream_usage: true },
  openrouter: { base_url: 'https://openrouter.ai/api/v1', env_key: 'OPENROUTER_API_KEY', stream_usage: true },
} as const satisfies Record<string, OpenAICompatiblePreset>;

export type PresetName = keyof typeof OPENAI_COMPATIBLE_PRESETS;

export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(OPENAI_COMPATIBLE_PRESETS, name);
}
