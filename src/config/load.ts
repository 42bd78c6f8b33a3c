/**
 * Loads `llmops.yaml`: `${ENV}` interpolation, schema validation with errors that name the
 * bad key, provider types inferred from names, providers added from API keys in the
 * environment, and the embedded defaults when there is no file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { OPENAI_COMPATIBLE_PRESETS, isPresetName } from '../providers/openai-compatible/presets.js';
import { ConfigSchema, ProviderSchema, type ModelRouteConfig, type ProviderConfig, type RawConfig } from './schema.js';

export class ConfigError extends Error {
  constructor(
    readonly problems: string[],
    readonly source: string,
  ) {
    super(`invalid config (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface Config extends Omit<RawConfig, 'providers'> {
  providers: Record<string, ProviderConfig>;
  /** Where the config came from: a file path or `defaults`. */
  source: string;
}

const ENV_PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed YAML document.
 * A missing variable without a default is an error naming the key that used it.
 */
export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv, path: string[] = [], problems: string[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_PATTERN, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      problems.push(`${path.join('.') || '(root)'}: environment variable ${name} is not set`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, env, [...path, String(i)], problems));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateEnv(v, env, [...path, k], problems);
    return out;
  }
  return value;
}

function issuesToProblems(error: z.ZodError, prefix: string[] = []): string[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path.map(String)].join('.') || '(root)';
    if (issue.code === 'unrecognized_keys') {
      return `${path ? `${path}: ` : ''}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    }
    return `${path}: ${issue.message}`;
  });
}

const TYPE_BY_NAME: Record<string, ProviderConfig['type']> = {
  openai: 'openai',
  anthropic: 'anthropic',
  gemini: 'gemini',
  demo: 'demo',
  'azure-openai': 'azure-openai',
  azure: 'azure-openai',
};

function resolveProviders(raw: Record<string, unknown>, problems: string[]): Record<string, ProviderConfig> {
  const out: Record<string, ProviderConfig> = {};
  for (const [name, value] of Object.entries(raw)) {
    const obj = value && typeof value === 'object' && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : null;
    if (!obj) {
      problems.push(`providers.${name}: expected an object`);
      continue;
    }
    if (obj.type === undefined) {
      const inferred = TYPE_BY_NAME[name] ?? (isPresetName(name) ? 'openai-compatible' : undefined);
      if (!inferred) {
        problems.push(`providers.${name}.type: required (one of ${ProviderSchema.options.map((o) => o.shape.type.value).join(', ')})`);
        continue;
      }
      obj.type = inferred;
    }
    const parsed = ProviderSchema.safeParse(obj);
    if (!parsed.success) {
      problems.push(...issuesToProblems(parsed.error, ['providers', name]));
      continue;
    }
    out[name] = parsed.data;
  }
  return out;
}

/** Providers whose keys are in the environment, by the names users expect. */
export function providersFromEnv(env: NodeJS.ProcessEnv): Record<string, ProviderConfig> {
  const out: Record<string, ProviderConfig> = {};
  if (env.OPENAI_API_KEY) out.openai = { type: 'openai', api_key: env.OPENAI_API_KEY, base_url: env.OPENAI_BASE_URL || undefined };
  if (env.ANTHROPIC_API_KEY) out.anthropic = { type: 'anthropic', api_key: env.ANTHROPIC_API_KEY, base_url: env.ANTHROPIC_BASE_URL || undefined };
  const gemini = env.GEMINI_API_KEY || env.GOOGLE_API_KEY;
  if (gemini) out.gemini = { type: 'gemini', api_key: gemini };
  if (env.AZURE_OPENAI_API_KEY && env.AZURE_OPENAI_ENDPOINT) {
    out.azure = {
      type: 'azure-openai',
      api_key: env.AZURE_OPENAI_API_KEY,
      base_url: env.AZURE_OPENAI_ENDPOINT,
      api_version: env.OPENAI_API_VERSION || undefined,
    };
  }
  for (const [name, preset] of Object.entries(OPENAI_COMPATIBLE_PRESETS)) {
    const key = 'env_key' in preset ? env[preset.env_key] : undefined;
    if (key) out[name] = { type: 'openai-compatible', preset: name, api_key: key };
  }
  return out;
}

/** The embedded defaults: the offline demo provider and two public models on it. */
export const DEFAULT_MODELS: Record<string, ModelRouteConfig> = {
  demo: { strategy: 'fallback', targets: [{ provider: 'demo', model: 'demo-chat' }], description: 'offline demo chat model' },
  'demo-embed': { strategy: 'fallback', targets: [{ provider: 'demo', model: 'demo-embedding' }], description: 'offline demo embeddings' },
};

function checkReferences(cfg: Config, problems: string[]): void {
  for (const [model, route] of Object.entries(cfg.models)) {
    const all = [
      ...route.targets.map((t, i) => ({ t, where: `targets.${i}` })),
      ...(route.context_fallback ?? []).map((t, i) => ({ t, where: `context_fallback.${i}` })),
      ...(route.tiers ?? []).flatMap((tier, i) => tier.targets.map((t, j) => ({ t, where: `tiers.${i}.targets.${j}` }))),
    ];
    for (const { t, where } of all) {
      if (!cfg.providers[t.provider]) {
        problems.push(`models.${model}.${where}.provider: unknown provider '${t.provider}' (configured: ${Object.keys(cfg.providers).join(', ') || 'none'})`);
      }
    }
    if (route.strategy === 'weighted' && route.targets.some((t) => t.weight === undefined)) {
      problems.push(`models.${model}.targets: every target needs a weight under the weighted strategy`);
    }
  }
}

export interface LoadConfigOptions {
  /** Path to a YAML file; when absent, `LLMOPS_CONFIG`, then `./llmops.yaml` if present, else the defaults. */
  path?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Parsed YAML to use instead of reading a file (tests). */
  document?: unknown;
}

export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  let source = 'defaults';
  let document: unknown = opts.document;
  if (document === undefined) {
    const path = opts.path ?? env.LLMOPS_CONFIG ?? (existsSync('llmops.yaml') ? 'llmops.yaml' : undefined);
    if (path !== undefined) {
      source = path;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        throw new ConfigError([`cannot read ${path}: ${(err as Error).message}`], path);
      }
      try {
        document = parseYaml(text) ?? {};
      } catch (err) {
        throw new ConfigError([`not valid YAML: ${(err as Error).message}`], path);
      }
    }
  } else {
    source = 'inline';
  }
  const problems: string[] = [];
  const interpolated = interpolateEnv(document ?? {}, env, [], problems) as Record<string, unknown>;
  if (interpolated && typeof interpolated === 'object' && interpolated.environment === undefined && env.LLMOPS_ENV) {
    interpolated.environment = env.LLMOPS_ENV;
  }
  const parsed = ConfigSchema.safeParse(interpolated);
  if (!parsed.success) throw new ConfigError([...problems, ...issuesToProblems(parsed.error)], source);
  const raw = parsed.data;
  const providers = resolveProviders(raw.providers, problems);
  if (source === 'defaults' && !providers.demo) providers.demo = { type: 'demo' };
  if (raw.providers_from_env) {
    for (const [name, p] of Object.entries(providersFromEnv(env))) if (!providers[name]) providers[name] = p;
  }
  const models = source === 'defaults' && Object.keys(raw.models).length === 0 ? { ...DEFAULT_MODELS } : raw.models;
  const cfg: Config = { ...raw, providers, models, source };
  checkReferences(cfg, problems);
  if (problems.length > 0) throw new ConfigError(problems, source);
  return cfg;
}
