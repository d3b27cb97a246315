/**
 * 100 create/destroy cycles through every way a domain ends — poweroff from the guest,
 * xl shutdown through xenstore, destroy of a running domain, a crash, a reboot restarted by
 * on_reboot="restart" (then destroyed), a preserved crash destroyed afterwards, and
 * rename-restart — and every resource back where it started: machine memory (and the
 * hypervisor's own audit), domains, dom0's event channels, foreign mappings and scratch,
 * console connections, xenstore nodes, connections and introduced domains, toolstack records.
 * And a creation that fails half-way (after the build) reports why and leaves nothing.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Host } from '../../src/host/host.ts';
import { ensureXenstored } from '../../src/host/xenstore_wiring.ts';
import { closeDrivers, ensureDrivers } from '../../src/host/devices_wiring.ts';
import { parseXlConfig, pvConfig } from '../../src/dom0/toolstack/xl_config.ts';
import type { Guest } from '../../src/dom0/toolstack/guest.ts';
import { auditMemory } from '../../src/xen/audit.ts';
import { physInfo } from '../../src/dom0/toolstack/xc_domain.ts';

const MINIOS = fileURLToPath(new URL('../../guests/build/minios.elf', import.meta.url));
const kernel = new Uint8Array(readFileSync(MINIOS));

function snapshot(host: Host, store: ReturnType<typeof ensureXenstored>): Record<string, unknown> {
  const d0 = host.xen.domain(0)!; // dom0 always exists
  const pi = physInfo(host.xc);
  let ports = 0;
  for (let p = 1; p < d0.evtchn.state.length; p++) if (d0.evtchn.state[p] !== 0) ports++;
  let slots = 0;
  for (let i = 0; i < d0.native!.slotKind.length; i++) if (d0.native!.slotKind[i] !== 0) slots++; // dom0 is native
  return {
    freePages: typeof pi === 'number' ? pi : pi.freePages, domains: [...host.xen.domains].length, dom0Ports: ports,
    dom0PhysmapSlots: slots, consoles: [...host.consoles.connections].length, storeNodes: store.daemon.store.size,
    storeConnections: store.daemon.connections.size, introduced: [...store.daemon.domains.list()].length,
    guests: [...host.toolstack.guests].length,
  };
}

async function runUntil(host: Host, done: () => boolean): Promise<void> {
  const end = await host.runUntil(done, { timeoutMs: 60_000, maxSystemNs: host.xen.time.now() + 120e9 });
  expect(end, 'the cycle did not finish').toBe('done');
}

describe('lifecycle', () => {
  it('100 create/destroy cycles return every resource to where it started', async () => {
    const host = new Host({ memoryMiB: 128, clock: 'virtual' });
    const store = ensureXenstored(host);
    const before = snapshot(host, store);
    const kinds = ['poweroff', 'xl-shutdown', 'destroy', 'crash', 'restart', 'preserve', 'rename-restart'] as const;
    const counts = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      const kind = kinds[i % kinds.length]!;
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      const cmd = {
        poweroff: 'shutdown', 'xl-shutdown': 'wait shutdown 60', destroy: 'spin', crash: 'shutdown crash',
        restart: 'shutdown reboot', preserve: 'shutdown crash', 'rename-restart': 'shutdown reboot',
      }[kind];
      const extra = kind === 'preserve' ? 'on_crash="preserve"' : kind === 'rename-restart' ? 'on_reboot="rename-restart"' : '';
      const cfg = pvConfig(parseXlConfig(`name="cycle"\nkernel="k"\nmemory=8\n${extra}\nextra="cmd=\\"${cmd}\\""\n`, `cycle-${i}`));
      let text = '';
      const g: Guest = host.toolstack.createPv(cfg, kernel, { sink: (b) => { text += Buffer.from(b).toString('latin1'); } });
      switch (kind) {
        case 'poweroff':
        case 'crash':
          await runUntil(host, () => g.exit !== null);
          expect(g.exit?.action).toBe('destroy');
          break;
        case 'xl-shutdown':
          await runUntil(host, () => text.includes('WAIT shutdown'));
          host.toolstack.shutdown(g.domid, 'poweroff');
          await runUntil(host, () => g.exit !== null);
          expect(g.exit?.reason).toBe(0);
          break;
        case 'destroy':
          await runUntil(host, () => text.includes('SPIN start'));
          host.toolstack.destroy(g.domid);
          expect(g.exit?.action).toBe('destroyed');
          break;
        case 'restart':
        case 'rename-restart': {
          await runUntil(host, () => g.exit !== null);
          const again = g.restartedAs;
          expect(again, 'the guest was restarted').not.toBeNull();
          expect(again!.name).toBe('cycle');
          if (kind === 'rename-restart') {
            expect(g.name).toMatch(/^cycle-\d{8}T\d{4}Z$/);
            host.toolstack.destroy(g.domid); // the preserved original
          }
          await runUntil(host, () => again!.exit !== null); // the new one reboots again: restarted once more
          const third = again!.restartedAs!;
          if (kind === 'rename-restart') host.toolstack.destroy(again!.domid);
          host.toolstack.destroy(third.domid);
          break;
        }
        case 'preserve':
          await runUntil(host, () => g.exit !== null);
          expect(g.exit?.action).toBe('preserve');
          expect(host.toolstack.domainInfo(g.domid).state).toMatch(/^---sc-$/);
          host.toolstack.destroy(g.domid);
          break;
      }
      // Let dom0 finish its share (xenstored's release on VIRQ_DOM_EXC, watches).
      await runUntil(host, () => true);
      expect(snapshot(host, store), `after cycle ${i} (${kind})`).toEqual(before);
    }
    expect(auditMemory(host.xen)).toEqual([]);
    expect([...counts.values()].reduce((a, b) => a + b)).toBe(100);
  }, 600_000);

  it('a creation that fails after the build says why and leaves nothing behind', async () => {
    const host = new Host({ memoryMiB: 64, clock: 'virtual', pcpus: 2 });
    const store = ensureXenstored(host);
    ensureDrivers(host);
    const before = snapshot(host, store);
    // Each fails at a different step after the domain exists: affinity (before the
    // xenstore home is written), the second vCPU's affinity with a fixed UUID, a disk
    // whose image is missing (after the home, /vm/<uuid> and the console are made).
    const cases: Array<[string, RegExp]> = [
      ['cpus = "7"', /^cpus: "7" names no CPU of this host \(it has 2: 0-1\)$/],
      ['cpus_soft = "0-1,x"', /^cpus_soft: /],
      ['uuid = "6a1f3b3e-2d4c-4f5e-9a8b-7c6d5e4f3a2b"\nvcpus = 2\ncpus = [ "0", "5" ]', /^cpus: "5" names no CPU/],
      ["disk = [ '/nonexistent/tsxen.img,raw,xvda' ]", /cannot open \/nonexistent\/tsxen\.img/],
      // refused by the hypervisor itself (16 vCPUs at most for a PV guest here)
      ['vcpus = 2\nmaxvcpus = 20', /^createdomain \(max_vcpus 20\) failed: -22 \(EINVAL\)$/],
    ];
    for (const [line, why] of cases) {
      const cfg = pvConfig(parseXlConfig(`name="bad"\nkernel="k"\nmemory=8\n${line}\n`, 'bad.cfg'));
      expect(() => host.toolstack.createPv(cfg, kernel), line).toThrow(why);
      await runUntil(host, () => true);
      expect(snapshot(host, store), line).toEqual(before);
    }
    expect(auditMemory(host.xen)).toEqual([]);
    closeDrivers(host);
  }, 60_000);
});
