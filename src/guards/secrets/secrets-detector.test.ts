import { describe, expect, it } from 'vitest';
import { looksRandom, SecretsDetector } from './index.js';

const secrets = new SecretsDetector();
const types = (text: string): string[] => secrets.detect(text).map((s) => s.type);
// Fake credentials in the providers' formats, made up for these tests.
const R = 'q8Zr2LmX0vTn4sKp9WcYb7Hd';

describe('SecretsDetector', () => {
  it('finds each provider format', () => {
    expect(types(`OPENAI_API_KEY=sk-proj-${R}${R}`)).toEqual(['OPENAI_KEY']);
    expect(types(`key sk-ant-api03-${R}${R}-AA`)).toEqual(['ANTHROPIC_KEY']);
    expect(types('aws_access_key_id = AKIAIOSFODNN7EXAMPLE')).toEqual(['AWS_ACCESS_KEY']);
    expect(types('aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')).toEqual(['AWS_SECRET_KEY']);
    expect(types(`token ghp_${R}abcdefghijkl`)).toEqual(['GITHUB_TOKEN']);
    expect(types(`SLACK=xoxb-123456789012-1234567890123-${R}`)).toEqual(['SLACK_TOKEN']);
    expect(types(`stripe sk_live_${R}`)).toEqual(['STRIPE_KEY']);
    expect(types(`google AIza${R}abcdefghijk`)).toEqual(['GOOGLE_API_KEY']);
    expect(types('Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U')).toEqual(['JWT']);
    expect(types('-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----')).toEqual(['PRIVATE_KEY']);
    expect(types(`password: ${R}`)).toEqual(['HIGH_ENTROPY']);
  });

  it('leaves hashes, UUIDs, identifiers and paths alone', () => {
    for (const s of ['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', '550e8400-e29b-41d4-a716-446655440000', 'getElementByIdAndName', 'src/guards/pii/pii-detector', 'AbstractSingletonProxyFactoryBean2']) {
      expect(looksRandom(s), s).toBe(false);
    }
  });

  // Measured false positives on ordinary prose and code: none allowed.
  it('raises nothing on normal prose and code', () => {
    const prose = `The quick brown fox jumps over the lazy dog. In 2023 the committee reviewed 1,250 proposals
and approved 312 of them; the rest were returned with comments. See https://example.com/docs/getting-started#install
for details, or read RFC 7231 section 6.5.1. Version 1.2.3-beta.4 fixed the regression in the parser.`;
    const code = `import { createHash } from 'node:crypto';
export function digest(input: string): string {
  const h = createHash('sha256').update(input).digest('hex'); // e.g. 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
  const id = crypto.randomUUID(); // 123e4567-e89b-12d3-a456-426614174000
  return \`\${h}:\${id}\`; // node_modules/@opentelemetry/exporter-trace-otlp-http/build/src/index.js
}
const commit = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3';
const className = 'AbstractSingletonProxyFactoryBean';
const b64 = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';`;
    expect(secrets.detect(prose + '\n' + code)).toEqual([]);
  });
});
