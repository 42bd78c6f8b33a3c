/**
 * The contracts between the guardrail detectors and the policy engine that runs them.
 * Detectors are pure, synchronous and fast (well under a millisecond on a 2 KB text); they
 * never see or return anything but the text they are given and spans into it.
 */

/** One detected entity: a span of the scanned text. Never carries the raw value out of the guard. */
export interface EntitySpan {
  /** Upper-case entity type: EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, IBAN_CODE, US_SSN, IP_ADDRESS, DATE_OF_BIRTH, PERSON, LOCATION/STREET_ADDRESS, and for secrets OPENAI_KEY, AWS_ACCESS_KEY, JWT, PRIVATE_KEY, HIGH_ENTROPY, ... */
  type: string;
  /** UTF-16 offsets into the scanned text, end exclusive. */
  start: number;
  end: number;
  /** Confidence 0..1 (context words raise it, as in Presidio). */
  score: number;
}

/** PII or secret detection over one text. */
export interface EntityDetector {
  /** The entity types this detector can report. */
  readonly types: readonly string[];
  /** Spans found, sorted by start, non-overlapping (the higher score wins an overlap). */
  detect(text: string, opts?: { types?: readonly string[]; minScore?: number }): EntitySpan[];
}

/** Prompt-injection / jailbreak scoring of one text. */
export interface InjectionScore {
  /** 0..1; the policy compares it with its threshold. */
  score: number;
  /** Which rule families or model features fired (e.g. `instruction_override`, `base64_payload`, `model`), for the trace. */
  signals: string[];
}

export interface InjectionDetector {
  score(text: string): InjectionScore;
  /** Default thresholds when a policy sets none: for `flag` (balanced) and for `block` (low false-positive rate). */
  readonly threshold?: number;
  readonly blockThreshold?: number;
}
