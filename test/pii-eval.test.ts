/**
 * Floors on the held-out PII figures (rows whose index % 5 == 0 of Presidio's synthetic set;
 * see bench/pii-dataset.ts). Set just below what `npm run eval:pii` measures, so a
 * regression fails here. Skipped when the shared data set is not beside the project.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluate, loadPresidio, PRESIDIO_PATH, splitRows } from '../bench/pii-dataset.js';
import { PiiDetector } from '../src/guards/pii/index.js';

// [precision, recall] floors, in percent.
const FLOORS: Record<string, [number, number]> = {
  EMAIL_ADDRESS: [95, 95],
  PHONE_NUMBER: [90, 95],
  CREDIT_CARD: [95, 95],
  IBAN_CODE: [95, 95],
  US_SSN: [95, 95],
  IP_ADDRESS: [95, 95],
  DATE_OF_BIRTH: [95, 95],
  PERSON: [82, 44],
  STREET_ADDRESS: [95, 55],
};

describe.skipIf(!existsSync(PRESIDIO_PATH))('PII on the held-out Presidio rows', () => {
  const scores = evaluate(splitRows(loadPresidio()).heldOut, (t) => new PiiDetector().detect(t));
  for (const s of scores) {
    it(`${s.type}: precision and recall stay above the floor`, () => {
      const [p, r] = FLOORS[s.type]!;
      expect(100 * s.precision).toBeGreaterThanOrEqual(p);
      expect(100 * s.recall).toBeGreaterThanOrEqual(r);
    });
  }
});
