/**
 * Generic high-entropy tokens: credentials with no known prefix. A token of 20+ characters
 * from the base64/base64url alphabet counts when its Shannon entropy is high for its length
 * and it switches often between lower case, upper case and digits, which random strings do
 * and identifiers, words, paths, hex hashes and UUIDs do not.
 */

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

function charClass(c: number): number {
  if (c >= 97 && c <= 122) return 0;
  if (c >= 65 && c <= 90) return 1;
  if (c >= 48 && c <= 57) return 2;
  return 3;
}

/** The minimum entropy for a token of this length: random base62 text sits well above it. */
export function entropyThreshold(length: number): number {
  return Math.min(4.3, 0.82 * Math.log2(length) + 0.15);
}

/**
 * Whether a token looks like a random credential. Exported for tests.
 * @example looksRandom('q8Zr2LmX0vTn4sKp9WcY') // true
 * @example looksRandom('getElementByIdAndName') // false
 */
export function looksRandom(token: string): boolean {
  const n = token.length;
  if (n < 20 || n > 512) return false;
  let lower = 0;
  let upper = 0;
  let digit = 0;
  let switches = 0;
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const k = charClass(token.charCodeAt(i));
    if (k === 0) lower++;
    else if (k === 1) upper++;
    else if (k === 2) digit++;
    if (prev >= 0 && k !== prev) switches++;
    prev = k;
  }
  // Hex strings (hashes, UUIDs without dashes, colours) and single-case text are left out.
  if (/^[0-9a-f]+$/i.test(token) && (lower === 0 || upper === 0)) return false;
  if (digit < 2 || lower + upper < 4) return false;
  if ((lower === 0 || upper === 0) && n < 32) return false;
  if (switches / (n - 1) < 0.3) return false;
  return shannonEntropy(token) >= entropyThreshold(n);
}
