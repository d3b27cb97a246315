/**
 * The scheduler policy interface (Xen's `struct scheduler` ops, reduced to what tsxen's
 * core needs). The core (core.ts) owns pCPUs, runstates, blocking, pausing, migration and
 * the context switch; a policy decides which vCPU runs where and for how long. Round
 * robin (rr.ts) and credit (credit.ts) implement it; another policy (credit2, RTDS) is one
 * more file and one line in `makeScheduler`.
 *
 * Contract (mirrors xen/common/sched/core.c's calls into sched_* ops):
 *  - insert(v) once when the vCPU is created, remove(v) before it is destroyed. insert
 *    returns the policy's per-vCPU state, which the core keeps in `v.schedData` (non-null
 *    exactly while the vCPU is in the scheduler; the core calls nothing else before
 *    insert or after remove).
 *  - wake(v): v became runnable and is not on a pCPU (and may already be queued: ignore).
 *    The policy queues it on `v.processor`'s runqueue and tickles pCPUs that should look.
 *  - sleep(v): v stopped being runnable. If it is queued the policy dequeues it; if it is
 *    running the policy tickles its pCPU (the core switches it out at that pCPU's next
 *    schedule).
 *  - yield(v): a running vCPU asked to yield; the core tickles its pCPU afterwards.
 *  - pickCpu(v): where a migrating vCPU should go (pick_resource); must be in its hard
 *    affinity. The core then sets `v.processor` and wakes it.
 *  - doSchedule(p, prev, now, out): pCPU p reschedules at local time `now`. `prev` is its
 *    current vCPU (null = idle), still marked running; if prev is runnable the policy puts
 *    it back in its runqueue. The policy fills `out.next` (null = idle) and `out.sliceNs`
 *    (Infinity = until tickled). The chosen vCPU is runnable and no longer queued.
 *  - nextTimer(p) / timer(p, now): the policy's per-pCPU timers (credit's 10 ms tick and
 *    30 ms accounting). The core's run loop calls timer(p, now) once pCPU p's local time
 *    reaches nextTimer(p); timer must move nextTimer(p) past `now`.
 *  - A vCPU is never queued twice, never queued while running, and only on the runqueue of
 *    its `processor`.
 */
import type { Vcpu } from '../vcpu.ts';
import type { Domain } from '../domain.ts';

/** What a policy may ask of the scheduling core. */
export interface SchedCoreOps {
  readonly pcpus: number;
  /** Current time in the calling context (a pCPU's local time, or the global time). */
  now(): number;
  /** The vCPU on pCPU `p` (null: idle). */
  current(p: number): Vcpu | null;
  /** Raise SCHEDULE_SOFTIRQ on pCPU `p`: it reschedules at the current time. */
  tickle(p: number): void;
  /** The pCPU whose code is executing (a vCPU's, its timers'), or -1 (global context). */
  executing(): number;
  /** Move a vCPU to the pCPU pickCpu chooses (at its switch-out if it is running). */
  migrate(v: Vcpu): void;
  /** sched_unit_pause_nosync / sched_unit_unpause (credit's cap parking). */
  pauseVcpu(v: Vcpu): void;
  unpauseVcpu(v: Vcpu): void;
}

/** The result of doSchedule (preallocated by the core: no allocation per decision). */
export interface SchedDecision {
  next: Vcpu | null;
  /** How long `next` may run before the core asks again (Infinity: until tickled). */
  sliceNs: number;
  /** `next` was stolen from another pCPU's runqueue. */
  migrated: boolean;
}

/** Per-domain parameters (XEN_DOMCTL_scheduler_op). */
export interface SchedDomParams {
  weight: number;
  cap: number;
}

/** Scheduler-wide parameters (XEN_SYSCTL_scheduler_op). */
export interface SchedGlobalParams {
  tsliceMs: number;
  ratelimitUs: number;
  vcpuMigrDelayUs: number;
}

export interface Scheduler {
  /** Xen's opt_name ('credit', 'rr'). */
  readonly name: string;
  /** XEN_SCHEDULER_* (sysctl sched_id); -1 for a policy Xen does not have. */
  readonly schedId: number;
  attach(core: SchedCoreOps): void;
  insert(v: Vcpu): object;
  remove(v: Vcpu): void;
  wake(v: Vcpu): void;
  sleep(v: Vcpu): void;
  yield(v: Vcpu): void;
  pickCpu(v: Vcpu): number;
  doSchedule(p: number, prev: Vcpu | null, now: number, out: SchedDecision): void;
  nextTimer(p: number): number;
  timer(p: number, now: number): void;
  /** The vCPU's affinity masks changed (adjust_affinity). */
  affinityChanged(v: Vcpu): void;
  /** Per-domain parameters, or null if the policy has none. */
  getParams(d: Domain): SchedDomParams | null;
  /** putinfo: weight 0 and cap 0xFFFF mean "unchanged". Returns 0 or -errno. */
  setParams(d: Domain, weight: number, cap: number): number;
  getGlobal(): SchedGlobalParams | null;
  setGlobal(p: SchedGlobalParams): number;
  /** Something will become runnable through the policy's own timers (a parked vCPU). */
  hasPending(): boolean;
  /** Debug dump ('r' debug key, tests). */
  dump(): string[];
}
