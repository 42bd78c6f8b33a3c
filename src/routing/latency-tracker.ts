/** Exponentially weighted moving average of each target's latency, for the `latency` strategy. */
export class LatencyTracker {
  private readonly ewma = new Map<string, number>();

  constructor(private alpha: number) {}

  /** A new smoothing factor (a config reload); estimates carry over. */
  setAlpha(alpha: number): void {
    this.alpha = alpha;
  }

  observe(key: string, ms: number): void {
    const prev = this.ewma.get(key);
    this.ewma.set(key, prev === undefined ? ms : prev + this.alpha * (ms - prev));
  }

  /** The current estimate, or undefined when the target was never measured. */
  get(key: string): number | undefined {
    return this.ewma.get(key);
  }

  /** Drops the estimates of one provider's targets (`provider/…`): a reload changed that provider. */
  forgetProvider(provider: string): void {
    for (const key of this.ewma.keys()) if (key.startsWith(`${provider}/`)) this.ewma.delete(key);
  }
}
