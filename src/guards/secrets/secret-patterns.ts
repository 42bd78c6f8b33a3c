/**
 * Known credential formats, one entry per provider. Each pattern is anchored on the
 * provider's fixed prefix, so a match is near certain (score 0.95); the AWS secret key has
 * no prefix and needs its context word.
 */

export interface SecretPattern {
  type: string;
  regex: RegExp;
  score: number;
  /** Lower-cased words that must appear within 64 characters before the match. */
  requires?: RegExp;
}

const B = '(?<![A-Za-z0-9_-])';
const E = '(?![A-Za-z0-9_-])';

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  // Anthropic: sk-ant-api03-..., sk-ant-admin01-..., sk-ant-oat01-...
  { type: 'ANTHROPIC_KEY', regex: new RegExp(`${B}sk-ant-[a-z]{2,8}\\d{2}-[A-Za-z0-9_-]{32,}${E}`, 'g'), score: 0.98 },
  // OpenAI: sk-proj-..., sk-svcacct-..., sk-admin-..., legacy sk-<48> with the T3BlbkFJ marker or plain.
  { type: 'OPENAI_KEY', regex: new RegExp(`${B}sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}${E}`, 'g'), score: 0.98 },
  { type: 'OPENAI_KEY', regex: new RegExp(`${B}sk-(?!ant-)[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}${E}`, 'g'), score: 0.98 },
  { type: 'OPENAI_KEY', regex: new RegExp(`${B}sk-(?!ant-|proj-|svcacct-|admin-)[A-Za-z0-9]{32,64}${E}`, 'g'), score: 0.8 },
  // AWS access key ids; the 40-character secret only next to its name.
  { type: 'AWS_ACCESS_KEY', regex: new RegExp(`${B}(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z2-7]{16}${E}`, 'g'), score: 0.95 },
  { type: 'AWS_SECRET_KEY', regex: new RegExp(`(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])`, 'g'), score: 0.9, requires: /aws|secret_access_key|secretaccesskey|secret access key/ },
  // GitHub: classic tokens (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained PATs.
  { type: 'GITHUB_TOKEN', regex: new RegExp(`${B}gh[pousr]_[A-Za-z0-9]{36,255}${E}`, 'g'), score: 0.98 },
  { type: 'GITHUB_TOKEN', regex: new RegExp(`${B}github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}${E}`, 'g'), score: 0.98 },
  // Slack: bot/user/app tokens and incoming webhooks.
  { type: 'SLACK_TOKEN', regex: new RegExp(`${B}xox[abposre]-(?:\\d+-)+[A-Za-z0-9-]{10,}${E}`, 'g'), score: 0.95 },
  { type: 'SLACK_TOKEN', regex: new RegExp(`${B}xapp-\\d-[A-Z0-9]+-\\d+-[a-f0-9]{32,}${E}`, 'g'), score: 0.95 },
  { type: 'SLACK_WEBHOOK', regex: /https:\/\/hooks\.slack\.com\/(?:services|workflows)\/T[A-Z0-9]{6,}\/[A-Z0-9]{6,}\/[A-Za-z0-9]{16,}/g, score: 0.95 },
  // Stripe: secret, restricted and publishable keys, webhook secrets.
  { type: 'STRIPE_KEY', regex: new RegExp(`${B}(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{20,247}${E}`, 'g'), score: 0.95 },
  { type: 'STRIPE_KEY', regex: new RegExp(`${B}whsec_[A-Za-z0-9]{32,}${E}`, 'g'), score: 0.95 },
  // Google: API keys, OAuth client secrets and access tokens.
  { type: 'GOOGLE_API_KEY', regex: new RegExp(`${B}AIza[0-9A-Za-z_-]{35}${E}`, 'g'), score: 0.95 },
  { type: 'GOOGLE_API_KEY', regex: new RegExp(`${B}GOCSPX-[A-Za-z0-9_-]{28}${E}`, 'g'), score: 0.95 },
  { type: 'GOOGLE_API_KEY', regex: new RegExp(`${B}ya29\\.[A-Za-z0-9_-]{30,}${E}`, 'g'), score: 0.9 },
  // JWT: three base64url parts, the first two JSON objects ("eyJ" is base64 of '{"').
  { type: 'JWT', regex: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?![A-Za-z0-9_-])/g, score: 0.95 },
  // PEM private key blocks (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP), whole block.
  { type: 'PRIVATE_KEY', regex: /-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----/g, score: 1 },
];

export const SECRET_TYPES: readonly string[] = [...new Set(SECRET_PATTERNS.map((p) => p.type)), 'HIGH_ENTROPY'];
