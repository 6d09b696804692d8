import type { BenchChild } from './processes';

/** Samples the summed VmRSS of some processes every `everyMs` until stopped; returns the peak in MB. */
export function sampleRss(children: BenchChild[], everyMs = 50): { stop(): number } {
  let peakKb = 0;
  const sample = () => {
    const total = children.reduce((sum, c) => sum + (c.rssKb() ?? 0), 0);
    peakKb = Math.max(peakKb, total);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peakKb / 1024;
    },
  };
}

export function rssMb(children: BenchChild[]): number {
  return children.reduce((sum, c) => sum + (c.rssKb() ?? 0), 0) / 1024;
}
