/**
 * Embeddings from a configured embedding model, called through llmops' own router and
 * providers (strategy, retries, fallback and circuit breaker as for any call). Vectors
 * are normalized so the index can compare them with a dot product.
 */
import { Cancellation } from '../../cancellation.js';
import { executeRoute, type ExecutorDeps } from '../../routing/executor.js';
import type { ModelRouter } from '../../routing/router.js';
import type { AttemptRecord } from '../../store/types.js';
import { normalize, type Embedder } from './embedder.js';

export class ProviderEmbedder implements Embedder {
  readonly name: string;

  constructor(
    private readonly model: string,
    private readonly router: ModelRouter,
    private readonly executor: ExecutorDeps,
  ) {
    this.name = `model:${model}`;
  }

  async embed(text: string): Promise<Float32Array> {
    const route = this.router.resolve(this.model);
    const attempts: AttemptRecord[] = [];
    const a = await executeRoute(route, this.executor, new Cancellation(), attempts, (t, o) =>
      t.provider.embeddings({ model: this.model, input: text }, t.model, o),
    );
    a.release();
    const emb = a.value.response.data[0]?.embedding;
    if (!Array.isArray(emb) || emb.length === 0) throw new Error(`embedding model '${this.model}' returned no vector`);
    return normalize(Float32Array.from(emb));
  }
}
