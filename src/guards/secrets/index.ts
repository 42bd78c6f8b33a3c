/** Secrets detection: `SecretsDetector` (an `EntityDetector`), the provider patterns and the entropy test. */
export { DEFAULT_SECRETS_MIN_SCORE, SecretsDetector } from './secrets-detector.js';
export { SECRET_PATTERNS, SECRET_TYPES, type SecretPattern } from './secret-patterns.js';
export { entropyThreshold, looksRandom, shannonEntropy } from './entropy.js';
