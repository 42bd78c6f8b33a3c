/** PII detection: `PiiDetector` (an `EntityDetector`) and the validators it uses. */
export { DEFAULT_PII_MIN_SCORE, PII_TYPES, PiiDetector, type PiiType } from './pii-detector.js';
export { cardIssuerKnown, ibanValid, ipv4Valid, luhnValid, ssnValid } from './validators.js';
