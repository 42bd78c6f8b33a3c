/** Onion-style composition of pipeline stages: each stage gets the context and `next`. */
export type Next = () => Promise<void>;
export type Stage<C> = (ctx: C, next: Next) => Promise<void>;

/**
 * Composes stages into one function. Calling `next()` twice in one stage is a bug and throws.
 *
 * @example
 * const run = compose([auth, parse, route]);
 * await run(ctx);
 */
export function compose<C>(stages: ReadonlyArray<Stage<C>>): (ctx: C) => Promise<void> {
  return (ctx) => {
    let last = -1;
    const dispatch = (i: number): Promise<void> => {
      if (i <= last) return Promise.reject(new Error('pipeline: next() called more than once'));
      last = i;
      const stage = stages[i];
      if (!stage) return Promise.resolve();
      try {
        return stage(ctx, () => dispatch(i + 1));
      } catch (err) {
        return Promise.reject(err);
      }
    };
    return dispatch(0);
  };
}
