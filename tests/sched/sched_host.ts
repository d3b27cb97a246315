/**
 * Real guests under the scheduler: a Host (hypervisor + dom0, virtual clock) and helpers
 * to boot the scheduling test kernels (guests/tests/sched) or minios, run for a stretch
 * of virtual time, and read what dom0 sees through libxc (the same domctls xl uses).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Host, type HostOptions } from '../../src/host/host.ts';
import { parseXlConfig, pvConfig } from '../../src/dom0/toolstack/xl_config.ts';
import type { Domain } from '../../src/xen/common/domain.ts';
import type { Vcpu } from '../../src/xen/common/vcpu.ts';

export const GUESTS = fileURLToPath(new URL('../../guests/', import.meta.url));
export const BUILD = join(GUESTS, 'build');
export const KERNEL = {
  hog: join(BUILD, 'sched-hog.elf'),
  echo: join(BUILD, 'sched-echo.elf'),
  minios: join(BUILD, 'minios.elf'),
} as const;

export interface SchedGuest {
  readonly domid: number;
  readonly d: Domain;
  readonly vcpus: Vcpu[];
  console(): string;
}

export class SchedHost {
  readonly host: Host;
  readonly xenLog: string[] = [];

  constructor(opts: HostOptions = {}) {
    this.host = new Host({
      memoryMiB: 128, wallclockBaseNs: 1_700_000_000e9, xenLog: (l) => this.xenLog.push(l), ...opts,
    });
  }

  get now(): number {
    return this.host.xen.time.now();
  }

  /** Create and start a guest from `kernel` with extra xl.cfg lines; wait for `ready` on its console. */
  boot(name: string, kernel: string, extra = '', ready: string | null = null, maxNs = 5e9): SchedGuest {
    const image = new Uint8Array(readFileSync(kernel));
    const cfg = pvConfig(parseXlConfig(`name="${name}"\nkernel="${kernel}"\nmemory=16\n${extra}\n`, `${name}.cfg`));
    let out = '';
    const g = this.host.toolstack.createPv(cfg, image, { sink: (b) => (out += Buffer.from(b).toString('latin1')) });
    const d = this.host.xen.domain(g.domid)!; // SAFETY: just created
    const guest: SchedGuest = {
      domid: g.domid, d, vcpus: d.vcpus.filter((v): v is Vcpu => v !== null), console: () => out,
    };
    if (ready !== null) {
      const end = this.now + maxNs;
      while (!out.includes(ready)) {
        if (this.now >= end) throw new Error(`${name} never printed ${ready}:\n${out}\n${this.xenLog.slice(-20).join('\n')}`);
        this.host.step(1e6);
      }
    }
    return guest;
  }

  /** Run the machine for `ns` of virtual time (dom0's work included). */
  run(ns: number): void {
    const end = this.now + ns;
    while (this.now < end) {
      const before = this.now;
      this.host.step(Math.min(10e6, end - this.now));
      if (this.now === before && this.host.idle()) return;
    }
  }

  /** ns of CPU a domain has used (getdomaininfo cpu_time, what `xl list` shows). */
  cpuTime(domid: number): number {
    return this.host.xc.getDomainInfo(domid)!.cpuTimeNs; // SAFETY: callers pass live domains
  }
}
