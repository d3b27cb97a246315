/**
 * The device-channel scenarios: which test kernels (guests/tests/devchan) run together,
 * in which roles, with which xl.cfg lines. One table drives both the tsxen runs
 * (tests/devchan/devchan.test.ts) and the real-Xen runs (tests/devchan/refxen/run.sh, which
 * stages this table for dom0-devchan.sh).
 *
 * The toolstack contract (both sides): create every domain paused; for each domain X whose
 * peer is Y write /local/domain/X/devchan (perms "nX rY"), devchan/role and devchan/peer;
 * attach consoles; unpause all; wait for all to stop (or the timeout); destroy leftovers.
 */

export type Expect = 'SUCCESS' | 'FAILURE' | 'SKIP' | 'CRASH';

export interface DevchanDomain {
  /** Short name, unique in the scenario (the xl domain name is `<scenario>-<name>`). */
  readonly name: string;
  /** Image in guests/build (without directory). */
  readonly kernel: string;
  readonly role: string;
  /** The other domain of the pair, by name; omitted for single-domain scenarios. */
  readonly peer?: string;
  readonly memoryMiB?: number;
  readonly vcpus?: number;
  /** Extra xl.cfg lines. */
  readonly cfg?: readonly string[];
  readonly expect: Expect;
}

export interface DevchanScenario {
  readonly name: string;
  readonly summary: string;
  /** Seconds of wall time on refxen (QEMU-TCG) before leftovers are destroyed. */
  readonly timeoutS: number;
  readonly domains: readonly DevchanDomain[];
  /** Only meaningful on tsxen (it needs dom0 code of ours), with the reason. */
  readonly tsxenOnly?: string;
}

export const SCENARIOS: readonly DevchanScenario[] = [
  {
    name: 'evtchn-pingpong',
    summary: 'event-channel ping-pong between two domUs (poll and upcall), masking, close and rebind',
    timeoutS: 300,
    domains: [
      { name: 'server', kernel: 'devchan-evtchn_pingpong.elf', role: 'server', peer: 'client', expect: 'SUCCESS' },
      { name: 'client', kernel: 'devchan-evtchn_pingpong.elf', role: 'client', peer: 'server', expect: 'SUCCESS' },
    ],
  },
  {
    name: 'grant-access',
    summary: 'grant map (PTE and device), copy, revoke while mapped, refs never granted, between two domUs',
    timeoutS: 300,
    domains: [
      { name: 'granter', kernel: 'devchan-grant_access.elf', role: 'granter', peer: 'mapper', expect: 'SUCCESS' },
      { name: 'mapper', kernel: 'devchan-grant_access.elf', role: 'mapper', peer: 'granter', expect: 'SUCCESS' },
    ],
  },
  {
    name: 'grant-transfer',
    summary: 'page flipping (GNTTABOP_transfer) between two domUs, refused transfers',
    timeoutS: 300,
    domains: [
      { name: 'sender', kernel: 'devchan-grant_transfer.elf', role: 'sender', peer: 'receiver', expect: 'SUCCESS' },
      { name: 'receiver', kernel: 'devchan-grant_transfer.elf', role: 'receiver', peer: 'sender', expect: 'SUCCESS' },
    ],
  },
  {
    name: 'grant-limits',
    summary: 'grant table size, pin and maptrack limits, PTE mappings, swap, cache_flush (one domain)',
    timeoutS: 200,
    domains: [
      {
        name: 'solo', kernel: 'devchan-grant_limits.elf', role: 'solo', expect: 'SUCCESS',
        cfg: ['max_grant_frames=4', 'max_maptrack_frames=1'],
      },
    ],
  },
  {
    name: 'virq',
    summary: 'VIRQ bindings, timer delivery order, per-vCPU delivery, bind_vcpu, port limit (one domain, 2 vCPUs)',
    timeoutS: 200,
    domains: [
      { name: 'solo', kernel: 'devchan-virq.elf', role: 'solo', vcpus: 2, expect: 'SUCCESS', cfg: ['max_event_channels=40'] },
    ],
  },
  {
    name: 'xenstore-garbage',
    summary: 'garbage on one domain\'s xenstore ring while another domain keeps working',
    timeoutS: 300,
    domains: [
      { name: 'good', kernel: 'devchan-xenstore_garbage.elf', role: 'good', peer: 'bad', expect: 'SUCCESS' },
      { name: 'bad', kernel: 'devchan-xenstore_garbage.elf', role: 'bad', peer: 'good', expect: 'SUCCESS' },
    ],
  },
];

export function scenario(name: string): DevchanScenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`no devchan scenario ${name}`);
  return s;
}
