/**
 * The toxicity lexicon: terms by severity. Kept short and explicit on purpose; extend it
 * here (one entry per line, lower case, `*` for any word ending). Phrases match as whole
 * words after normalization (lower case, common leetspeak undone, repeated letters folded).
 */
export type Severity = 'low' | 'medium' | 'high';

export const LEXICON: Record<Severity, readonly string[]> = {
  /** Mild profanity: rude, rarely aimed at anyone. */
  low: ['damn', 'damned', 'crap', 'crappy', 'hell', 'sucks', 'bloody', 'piss off', 'screw you', 'shut up', 'dumb'],
  /** Strong profanity and insults. */
  medium: [
    'fuck*',
    'shit*',
    'bullshit',
    'asshole*',
    'bastard*',
    'bitch*',
    'dick',
    'dickhead',
    'idiot*',
    'moron*',
    'stupid',
    'imbecile',
    'loser',
    'pathetic',
    'worthless',
    'scum',
    'jerk',
    'retard*',
    'dumbass',
    'jackass',
  ],
  /** Threats, incitement to self-harm and violence, dehumanization. */
  high: [
    'kill you',
    'kill yourself',
    'kys',
    'i will hurt you',
    'i will kill',
    'going to kill you',
    'gonna kill you',
    'die in a fire',
    'hope you die',
    'you should die',
    'slit your throat',
    'beat you up',
    'rape',
    'subhuman',
    'vermin',
    'exterminate them',
  ],
};

/** Words that aim a term at the reader: "you idiot", "you are pathetic". */
export const TARGET_WORDS: readonly string[] = ['you', 'your', "you're", 'youre', 'u', 'ur'];
