/**
 * A config as it may be shown (`GET /admin/config`, `llmops config show`): secrets replaced
 * by `[redacted]` (API keys, virtual keys from config, tokens, passwords, every header value)
 * and the password of any URL with credentials by `***`.
 *
 * @example
 * redactConfig({ providers: { openai: { api_key: 'sk-…' } } }) // { providers: { openai: { api_key: '[redacted]' } } }
 */

/** Names of fields whose string value is a secret. */
const SECRET_FIELD = /(^|_)(api_?key|key|secret|token|password|authorization|credentials?)$/i;
const URL_WITH_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^/@\s:]*):[^/@\s]*@/i;

export function redactConfig(value: unknown, field = '', inHeaders = false): unknown {
  if (typeof value === 'string') {
    if (value === '') return value;
    if (inHeaders || SECRET_FIELD.test(field)) return '[redacted]';
    return value.replace(URL_WITH_PASSWORD, '$1:***@');
  }
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, field, inHeaders));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactConfig(v, k, inHeaders || k === 'headers');
    return out;
  }
  return value;
}
