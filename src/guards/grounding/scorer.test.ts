import { describe, expect, it } from 'vitest';
import { scoreGrounding } from './scorer.js';

const sources = ['The Eiffel Tower is in Paris and was completed in 1889.', 'The Louvre museum holds the Mona Lisa painting.'];

describe('grounding scorer', () => {
  it('counts supported sentences, against the cited source when there is a citation', () => {
    expect(scoreGrounding('The Eiffel Tower in Paris was completed in 1889 [1].', sources)).toMatchObject({ score: 1, sentences: 1 });
    // Supported by the sources as a whole, but not by the one it cites.
    expect(scoreGrounding('The Eiffel Tower in Paris was completed in 1889 [2].', sources).score).toBe(0);
    expect(scoreGrounding('Penguins enjoy cold Antarctic winters together.', sources).score).toBe(0);
  });

  it('reports citations to no source', () => {
    const r = scoreGrounding('The Louvre holds the Mona Lisa painting [5].', sources);
    expect(r.badCitations).toEqual([5]);
    expect(r.score).toBe(0);
  });
});
