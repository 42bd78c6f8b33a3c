import { describe, expect, it } from 'vitest';
import { CaptureSettings } from './capture.js';

const settings = new CaptureSettings({
  default: 'full',
  by_key: { 'pii-team': 'redacted', key_abc: 'metadata' },
  by_model: { 'secret-model': 'metadata' },
  redact: [{ name: 'TICKET', pattern: 'TCK-\\d+' }],
  max_payload_bytes: 200,
});

describe('capture policy', () => {
  it('picks the policy by key name or id, then by model, then the default', () => {
    expect(settings.policyFor({ name: 'pii-team', id: 'key_1' }, 'gpt-4o')).toBe('redacted');
    expect(settings.policyFor({ name: 'other', id: 'key_abc' }, 'gpt-4o')).toBe('metadata');
    expect(settings.policyFor({ name: 'other', id: 'key_2' }, 'secret-model')).toBe('metadata');
    expect(settings.policyFor(undefined, 'gpt-4o')).toBe('full');
  });

  it('stores nothing under metadata and everything under full', () => {
    expect(settings.serialize('metadata', { a: 1 })).toBeNull();
    expect(settings.serialize('full', { a: 'mail bob@example.com' })).toBe('{"a":"mail bob@example.com"}');
  });

  it('masks PII, secrets and configured patterns everywhere in the payload under redacted', () => {
    const out = JSON.parse(
      settings.serialize('redacted', {
        messages: [{ role: 'user', content: 'I am bob@example.com, card 4111 1111 1111 1111, key sk-proj-abcdefghijklmnopqrstuvwxyz1234567890, see TCK-991' }],
      })!,
    ) as { messages: Array<{ content: string }> };
    const text = out.messages[0]!.content;
    expect(text).toContain('I am <EMAIL_ADDRESS>, card <CREDIT_CARD>, key <');
    expect(text).toContain('see <TICKET>');
    expect(text).not.toMatch(/bob@|4111|sk-proj/);
  });

  it('cuts payloads over the limit and says so', () => {
    const out = JSON.parse(settings.serialize('full', { text: 'x'.repeat(1000) })!) as { truncated: boolean; bytes: number; preview: string };
    expect(out.truncated).toBe(true);
    expect(out.bytes).toBe(1011);
    expect(out.preview.length).toBeLessThanOrEqual(200);
  });
});
