import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SeriesCounter, SeriesHistogram } from './series-metrics.js';

describe('series metrics', () => {
  it('export cumulative histogram buckets, sum and count in the Prometheus text format', async () => {
    const registry = new Registry();
    const h = new SeriesHistogram('t_seconds', 'Test latency.', ['route'], [0.1, 1], registry);
    const s = h.at('a');
    h.observe(s, 0.05);
    h.observe(s, 0.1);
    h.observe(s, 0.5);
    h.observe(s, 7);
    h.at('never-observed');
    const text = await registry.metrics();
    expect(text).toContain('# TYPE t_seconds histogram');
    expect(text).toContain('t_seconds_bucket{route="a",le="0.1"} 2');
    expect(text).toContain('t_seconds_bucket{route="a",le="1"} 3');
    expect(text).toContain('t_seconds_bucket{route="a",le="+Inf"} 4');
    expect(text).toContain('t_seconds_sum{route="a"} 7.65');
    expect(text).toContain('t_seconds_count{route="a"} 4');
    expect(text).not.toContain('never-observed');
  });

  it('count by label values, escape them, and leave untouched series out', async () => {
    const registry = new Registry();
    const c = new SeriesCounter('t_total', 'Test counter.', ['model', 'status'], registry);
    c.inc(1, 'gpt "4o"', '200');
    c.inc(2, 'gpt "4o"', '200');
    c.add(c.at('other', '500'), 0);
    c.at('looked-up-only', '200');
    const text = await registry.metrics();
    expect(text).toContain('t_total{model="gpt \\"4o\\"",status="200"} 3');
    expect(text).toContain('t_total{model="other",status="500"} 0');
    expect(text).not.toContain('looked-up-only');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('t_total{');
  });
});
