import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../canonical.js';
import { scoreComplexity } from './complexity.js';

const user = (content: string): { messages: ChatMessage[] } => ({ messages: [{ role: 'user', content }] });

describe('complexity scorer', () => {
  it('scores small talk at zero and a reasoning ask well above it', () => {
    expect(scoreComplexity(user('hi')).score).toBe(0);
    expect(scoreComplexity(user('Analyze the trade-offs step by step and justify your design.')).score).toBeGreaterThan(0.3);
  });

  it('reads each feature', () => {
    const f = (s: string) => scoreComplexity(user(s)).features;
    expect(f('Prove it, step by step.').reasoning).toBe(2);
    expect(f('why?').reasoning).toBe(0.5);
    expect(f('```js\nconst x = 1;\n```').code).toBeGreaterThanOrEqual(4);
    expect(f('Traceback (most recent call last):\n  File "a.py", line 1').code).toBeGreaterThanOrEqual(2);
    expect(f('1. load the file\n2. parse it\n3. then print it').steps).toBe(4);
    expect(f(`${'word '.repeat(400)}`).tokens).toBe(500);
  });

  it('counts conversation depth and tool use, and scores the latest user turn', () => {
    const r = scoreComplexity({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Prove the theorem step by step.' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c', content: 'ok' },
        { role: 'user', content: 'thanks' },
      ],
      tools: [{ type: 'function', function: { name: 'f' } }],
    });
    expect(r.features).toMatchObject({ depth: 3, tools: 2, reasoning: 0 });
  });

  it('grows with each added cue', () => {
    const a = scoreComplexity(user('Explain closures.')).score;
    const b = scoreComplexity(user('Explain closures in JavaScript with a code example, then compare them to Python.')).score;
    expect(b).toBeGreaterThan(a);
  });
});
