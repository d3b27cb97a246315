/**
 * The scheduling policies tsxen offers, by Xen's opt_name (the `sched=` boot parameter).
 * A new policy is one file implementing Scheduler (scheduler.ts) and one line here.
 */
import type { Scheduler } from './scheduler.ts';
import { CreditScheduler } from './credit.ts';
import { RoundRobinScheduler } from './rr.ts';

export const SCHEDULERS = ['credit', 'rr'] as const;
export type SchedulerName = (typeof SCHEDULERS)[number];

export function makeScheduler(name: SchedulerName): Scheduler {
  switch (name) {
    case 'credit':
      return new CreditScheduler();
    case 'rr':
      return new RoundRobinScheduler();
  }
}
