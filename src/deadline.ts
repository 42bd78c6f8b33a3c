/** A promise with a deadline: `p`'s outcome, or a rejection with `why` once `ms` have passed (the timer cleared either way). */
export function withDeadline<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(why)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
