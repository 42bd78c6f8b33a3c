import { describe, expect, it } from 'vitest';
import { genAiProviderName, otlpTraceId } from './record-span.js';

describe('record-span helpers', () => {
  it('keeps a W3C trace id and hashes any other into 16 stable bytes', () => {
    expect(otlpTraceId('4BF92F3577B34DA6A3CE929D0E0E4736')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const h = otlpTraceId('order-77');
    expect(h).toMatch(/^[\da-f]{32}$/);
    expect(otlpTraceId('order-77')).toBe(h);
    expect(otlpTraceId('0'.repeat(32))).not.toBe('0'.repeat(32));
  });

  it('names providers as the GenAI conventions do', () => {
    expect(genAiProviderName('my-azure', 'azure-openai')).toBe('azure.ai.openai');
    expect(genAiProviderName('gemini', 'gemini')).toBe('gcp.gemini');
    expect(genAiProviderName('fast', 'openai-compatible', 'groq')).toBe('groq');
    expect(genAiProviderName('mistral', 'openai-compatible')).toBe('mistral_ai');
    expect(genAiProviderName('local-vllm', 'openai-compatible', 'vllm')).toBe('local-vllm');
  });
});
