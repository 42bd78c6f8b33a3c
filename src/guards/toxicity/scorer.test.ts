import { describe, expect, it } from 'vitest';
import { scoreToxicity } from './scorer.js';

describe('toxicity scorer', () => {
  it('scores by severity, raises aimed insults, and ignores clean text', () => {
    expect(scoreToxicity('Thanks, that was a helpful answer about Scunthorpe.').score).toBe(0);
    expect(scoreToxicity('Well, damn.').severity).toBe('low');
    const insult = scoreToxicity('You are an idiot.');
    expect(insult.severity).toBe('medium');
    expect(insult.score).toBeCloseTo(0.75);
    expect(scoreToxicity('That idea is stupid.').score).toBeCloseTo(0.6);
    expect(scoreToxicity('I will kill you').severity).toBe('high');
  });

  it('undoes leetspeak and stretched letters, and reports spans', () => {
    const r = scoreToxicity('what an 1d10t, so stuuupid');
    expect(r.spans.map((s) => s.type)).toEqual(['TOXIC_MEDIUM']);
    expect(scoreToxicity('you are so stuuupid').spans[0]).toMatchObject({ start: 11, end: 19 });
  });
});
