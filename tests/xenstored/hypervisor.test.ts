/**
 * xenstored on the real (emulated) hypervisor: the embedded host's dom0 runs the daemon
 * with XcPlatform, a native unprivileged domain talks to it through its own store page and
 * a real interdomain event channel, and XS_INTRODUCE maps the page by frame number through dom0's
 * foreign mapping. Nothing here is a stand-in: hypercalls, event delivery (2-level
 * pending/mask bits, upcalls) and grant-free foreign mapping are the hypervisor's.
 */
import { describe, expect, it } from 'vitest';
import { asDomId, asEvtchnPort, asGfn } from '../../src/abi/types.ts';
import { SHUTDOWN_poweroff } from '../../src/abi/sched.ts';
import { Host } from '../../src/host/host.ts';
import type { Domain } from '../../src/xen/common/domain.ts';
import { NativePort, runNativeUpcalls } from '../../src/xen/arch/x86/native.ts';
import { Xc } from '../../src/dom0/libxc/xc.ts';
import { Dom0Events } from '../../src/dom0/libxc/events.ts';
import { XenStored } from '../../src/dom0/xenstored/xenstored.ts';
import { XsLocalHandle } from '../../src/dom0/xenstored/local_handle.ts';
import { XcPlatform } from '../../src/dom0/xenstored/xc_platform.ts';
import { RingFrontend } from '../../src/dom0/xenstored/ring_frontend.ts';
import { XsClient } from '../../src/dom0/xenstored/xs_client.ts';
import { copyingMemory } from '../../src/dom0/xenstored/ring_memory.ts';
import { createDomainTree } from '../../src/dom0/xenstored/domain_tree.ts';

const STORE_PFN = 50; // above libxc's 32 scratch pages

/** Deliver upcalls and let microtasks run until `p` settles (bounded). */
async function pump<T>(host: Host, p: Promise<T>): Promise<T> {
  let done = false;
  const r = p.finally(() => (done = true));
  for (let i = 0; i < 10_000 && !done; i++) {
    runNativeUpcalls(host.xen);
    await new Promise<void>((res) => setImmediate(res));
  }
  if (!done) throw new Error('no reply through the hypervisor');
  return r;
}

function setup(): { host: Host; xsd: XenStored; dom0: XsLocalHandle; guest: XsClient; xc1: Xc; d1: Domain } {
  const host = new Host({ memoryMiB: 32 });
  const xsd = new XenStored({ platform: new XcPlatform(host.xc, host.events) });
  const dom0 = new XsLocalHandle(xsd);
  const d1 = host.xen.createNativeDomain(1, 64, false);
  if (typeof d1 === 'number') throw new Error(`createNativeDomain: ${d1}`);
  const port1 = new NativePort(host.xen, d1);
  const xc1 = new Xc(port1);
  const ev1 = new Dom0Events(xc1);
  // The domain builder's part: an unbound store port for dom0, and the store frame, named
  // as the domain names it (a native domain is translated: its PFN).
  const storePort = xc1.allocUnbound(1, 0);
  expect(storePort).toBeGreaterThan(0);
  createDomainTree(dom0, { domid: asDomId(1), name: 'native-guest', uuid: 'u1', memoryKiB: 64 });
  dom0.introduce(asDomId(1), asGfn(STORE_PFN), asEvtchnPort(storePort));
  // The guest's side: its own page through its own port, its own event channel.
  const gpa = STORE_PFN * 4096;
  const mem = copyingMemory({
    read: (_i, off, len) => {
      const b = new Uint8Array(len);
      port1.read(gpa + off, b);
      return b;
    },
    write: (_i, off, bytes) => void port1.write(gpa + off, bytes),
    unmap: () => {},
  });
  const guest = new XsClient(new RingFrontend(mem, { notify: () => xc1.notify(storePort), onEvent: (h) => ev1.on(storePort, () => h()) }));
  return { host, xsd, dom0, guest, xc1, d1 };
}

describe('xenstored through the hypervisor', () => {
  it('a native domain reads and writes its tree over its ring and a real event channel', async () => {
    const { host, dom0, guest } = setup();
    expect(await pump(host, guest.read('name'))).toBe('native-guest');
    await pump(host, guest.write('data/hello', 'from domain 1'));
    expect(dom0.read('/local/domain/1/data/hello')).toBe('from domain 1');
    expect(await pump(host, guest.read('/local/domain/0/name').catch((e: Error) => e.message))).toMatch(/EACCES/);
    // Watches cross the hypervisor too.
    await pump(host, guest.watch('control/shutdown', 'sd'));
    dom0.write('/local/domain/1/control/shutdown', 'poweroff');
    await pump(host, guest.read('control/shutdown'));
    expect(guest.events).toEqual([['control/shutdown', 'sd'], ['control/shutdown', 'sd']]);
  });

  it('a transaction from the domain commits, and conflicts with dom0 are EAGAIN', async () => {
    const { host, dom0, guest } = setup();
    const t = await pump(host, guest.transactionStart());
    await pump(host, guest.read('control/shutdown', t));
    await pump(host, guest.write('control/shutdown', '', t));
    dom0.write('/local/domain/1/control/shutdown', 'reboot');
    expect(await pump(host, guest.transactionEnd(t, true))).toBe(false);
    expect(dom0.read('/local/domain/1/control/shutdown')).toBe('reboot');
  });

  it('shutdown seen through getdomaininfo fires @releaseDomain; release unbinds the channel', async () => {
    const { host, xsd, dom0, d1 } = setup();
    const events: string[] = [];
    dom0.onWatch((p) => events.push(p));
    dom0.watch('@releaseDomain', 'r');
    host.xen.shutdownDomain(d1, SHUTDOWN_poweroff);
    xsd.domains.checkDomains(); // what the VIRQ_DOM_EXC handler does
    await pump(host, new Promise<void>((r) => setImmediate(r)));
    expect(events).toEqual(['@releaseDomain', '@releaseDomain']);
    dom0.release(asDomId(1));
    expect(xsd.domains.isIntroduced(asDomId(1))).toBe(false);
    expect(dom0.tryRead('/local/domain/1/name')).toBe('native-guest'); // owned by dom0: kept
  });

  it('XS_INTRODUCE of a frame the domain does not have, or a port it did not offer, is EINVAL', () => {
    const { dom0 } = setup();
    expect(() => dom0.introduce(asDomId(2), asGfn(3), asEvtchnPort(1))).toThrow(/EINVAL/); // no domain 2
    dom0.release(asDomId(1));
    expect(() => dom0.introduce(asDomId(1), asGfn(0x7fffff), asEvtchnPort(1))).toThrow(/EINVAL/);
    expect(() => dom0.introduce(asDomId(1), asGfn(STORE_PFN), asEvtchnPort(999))).toThrow(/EINVAL/);
  });
});
