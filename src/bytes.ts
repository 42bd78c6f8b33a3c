/** Byte counts as people read them in messages. */

/**
 * Bytes as MiB, at most two decimals.
 * @example
 * mib(256 * 1024 * 1024); // '256'
 * mib(1.5 * 1024 * 1024); // '1.5'
 */
export function mib(bytes: number): string {
  return String(Math.round((bytes / (1024 * 1024)) * 100) / 100);
}
