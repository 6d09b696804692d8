import type { WorkloadResult } from './peers-report';
import type { RunningSystem, Variant } from './system';
import { chainLatency, diamondRate, fanoutTime, flatOut, type Sizes, type WorkloadKey } from './workloads';

/** Runs one workload on one variant (for (d), on the variant's system: flat-out submits go over HTTP only). */
export function runWorkload(
  workload: WorkloadKey,
  variant: Variant,
  system: RunningSystem,
  sizes: Sizes,
): Promise<WorkloadResult> {
  switch (workload) {
    case 'a':
      return chainLatency(variant, sizes);
    case 'b':
      return diamondRate(variant, sizes);
    case 'c':
      return fanoutTime(variant, sizes);
    case 'd':
      return flatOut(system, sizes);
  }
}
