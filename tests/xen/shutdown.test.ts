/**
 * Shutdown with a reason, as a PV guest asks for it: SCHEDOP_shutdown with every reason
 * (and the 3.0-era sched_op_compat form, which passes the reason in the register), the
 * latched SCHEDOP_shutdown_code, and the domain watchdogs of SCHEDOP_watchdog (two per
 * domain; arm, re-arm, cancel, expiry shuts the domain down with SHUTDOWN_watchdog).
 *
 * The hypercalls are issued from the guest's own vCPU (as `int $0x82` would) with their
 * structs in the guest's memory; the guest is kept paused so only these calls act, and
 * time runs on the virtual clock. After each case the toolstack's view (reason, on_*
 * action), the hypervisor's (domain state) and the memory audit are checked.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Host } from '../../src/host/host.ts';
import { parseXlConfig, pvConfig } from '../../src/dom0/toolstack/xl_config.ts';
import type { Guest, GuestExit } from '../../src/dom0/toolstack/toolstack.ts';
import { dispatch } from '../../src/xen/arch/x86/hypercall.ts';
import { auditMemory } from '../../src/xen/audit.ts';
import { __HYPERVISOR_sched_op, __HYPERVISOR_sched_op_compat } from '../../src/abi/xen.ts';
import {
  SCHEDOP_shutdown, SCHEDOP_shutdown_code, SCHEDOP_watchdog, SHUTDOWN_crash, SHUTDOWN_poweroff, SHUTDOWN_reboot,
  SHUTDOWN_suspend, SHUTDOWN_watchdog,
} from '../../src/abi/sched.ts';
import { EINVAL, ENOSPC } from '../../src/abi/errno.ts';

const KERNEL = join(import.meta.dirname, '..', '..', 'guests', 'build', 'pv-xen_version.elf');
const SEC = 1_000_000_000;

interface Target {
  readonly host: Host;
  readonly guest: Guest;
  /** A free guest page (virtual address) and its machine frame, for hypercall structs. */
  readonly va: number;
  readonly mfn: number;
  exit: GuestExit | null;
}

function start(extra = ''): Target {
  const host = new Host({ memoryMiB: 64, wallclockBaseNs: 1_700_000_000e9 });
  const cfg = pvConfig(parseXlConfig(`name="sd"\nkernel="${KERNEL}"\nmemory=32\n` +
    'on_poweroff="destroy"\non_reboot="destroy"\non_crash="preserve"\non_watchdog="destroy"\n' + extra));
  const guest = host.toolstack.createPv(cfg, new Uint8Array(readFileSync(KERNEL)), { paused: true });
  const l = guest.built.layout!;
  const va = l.stackVa + 4096;
  const t: Target = { host, guest, va, mfn: guest.built.p2m[(va - l.virtBase) / 4096]!, exit: null };
  guest.onExit((e) => (t.exit = e));
  return t;
}

/** Call sched_op(cmd, &{words}) from vCPU 0. */
function schedOp(t: Target, cmd: number, ...words: number[]): number {
  words.forEach((w, i) => t.host.xen.mem.view.setUint32(t.mfn * 4096 + i * 4, w >>> 0, true));
  const v = t.host.xen.domain(t.guest.domid)!.vcpus[0]!;
  return dispatch(t.host.xen, v, __HYPERVISOR_sched_op, cmd, t.va, 0, 0, 0);
}

const now = (t: Target): number => t.host.xen.time.now();

async function runTo(t: Target, ns: number): Promise<void> {
  await t.host.runUntil(() => t.exit !== null || now(t) >= ns, { timeoutMs: 60_000 });
}

describe.skipIf(!existsSync(KERNEL))('shutdown reasons and watchdogs', () => {
  it.each([
    ['poweroff', SHUTDOWN_poweroff, 'destroy'],
    ['reboot', SHUTDOWN_reboot, 'destroy'],
    ['crash', SHUTDOWN_crash, 'preserve'],
    ['watchdog', SHUTDOWN_watchdog, 'destroy'],
  ] as const)('SCHEDOP_shutdown(%s) stops the domain with that reason and its on_* action', async (_n, reason, action) => {
    const t = start();
    expect(schedOp(t, SCHEDOP_shutdown, reason)).toBe(0);
    await t.host.runUntil(() => t.exit !== null, { timeoutMs: 60_000 });
    expect(t.exit).toEqual({ reason, action });
    if (action === 'preserve') {
      const d = t.host.xen.domain(t.guest.domid)!;
      expect(d.isShutDown && d.shutdownCode === reason).toBe(true);
      t.host.toolstack.destroy(t.guest.domid);
    }
    expect(t.host.xen.domain(t.guest.domid)).toBeUndefined();
    expect(auditMemory(t.host.xen)).toEqual([]);
  }, 60_000);

  it('suspend leaves the domain shut down (resumable) with reason suspend', () => {
    const t = start();
    expect(schedOp(t, SCHEDOP_shutdown, SHUTDOWN_suspend)).toBe(0);
    const d = t.host.xen.domain(t.guest.domid)!;
    expect(d.isShutDown).toBe(true);
    expect(d.shutdownCode).toBe(SHUTDOWN_suspend);
    // A second shutdown while shut down changes nothing (Xen: the first reason stays).
    expect(schedOp(t, SCHEDOP_shutdown, SHUTDOWN_crash)).toBe(0);
    expect(d.shutdownCode).toBe(SHUTDOWN_suspend);
    t.host.xen.resumeDomain(d);
    expect(d.isShutDown).toBe(false);
    t.host.toolstack.destroy(t.guest.domid);
    expect(auditMemory(t.host.xen)).toEqual([]);
  });

  it('the 3.0 sched_op_compat form takes the reason in the register', async () => {
    const t = start();
    const v = t.host.xen.domain(t.guest.domid)!.vcpus[0]!;
    expect(dispatch(t.host.xen, v, __HYPERVISOR_sched_op_compat, SCHEDOP_shutdown, SHUTDOWN_reboot, 0, 0, 0)).toBe(0);
    await t.host.runUntil(() => t.exit !== null, { timeoutMs: 60_000 });
    expect(t.exit).toEqual({ reason: SHUTDOWN_reboot, action: 'destroy' });
  }, 60_000);

  it('SCHEDOP_shutdown_code latches the reason a later stop reports', async () => {
    const t = start();
    expect(schedOp(t, SCHEDOP_shutdown_code, SHUTDOWN_reboot)).toBe(0);
    t.host.xen.crashDomain(t.host.xen.domain(t.guest.domid)!, 'test');
    await t.host.runUntil(() => t.exit !== null, { timeoutMs: 60_000 });
    expect(t.exit).toEqual({ reason: SHUTDOWN_reboot, action: 'destroy' });
  }, 60_000);

  it('two watchdogs per domain: ids 1 and 2, then -ENOSPC; cancel frees an id; unknown ids -EINVAL', () => {
    const t = start();
    expect(schedOp(t, SCHEDOP_watchdog, 0, 30)).toBe(1);
    expect(schedOp(t, SCHEDOP_watchdog, 0, 30)).toBe(2);
    expect(schedOp(t, SCHEDOP_watchdog, 0, 30)).toBe(-ENOSPC);
    expect(schedOp(t, SCHEDOP_watchdog, 2, 0)).toBe(0); // cancel
    expect(schedOp(t, SCHEDOP_watchdog, 2, 5)).toBe(-EINVAL); // no longer armed
    expect(schedOp(t, SCHEDOP_watchdog, 3, 5)).toBe(-EINVAL);
    expect(schedOp(t, SCHEDOP_watchdog, 0, 30)).toBe(2); // the freed id again
    expect(schedOp(t, SCHEDOP_watchdog, 1, 0)).toBe(0);
    expect(schedOp(t, SCHEDOP_watchdog, 2, 0)).toBe(0);
    t.host.toolstack.destroy(t.guest.domid);
    expect(auditMemory(t.host.xen)).toEqual([]);
  });

  it('an expired watchdog shuts the domain down with SHUTDOWN_watchdog; re-arming postpones it', async () => {
    const t = start('on_watchdog="preserve"');
    const t0 = now(t);
    expect(schedOp(t, SCHEDOP_watchdog, 0, 2)).toBe(1);
    await runTo(t, t0 + 1 * SEC);
    expect(t.exit).toBeNull();
    expect(schedOp(t, SCHEDOP_watchdog, 1, 3)).toBe(0); // now due at t0 + 4 s
    await runTo(t, t0 + 3.5 * SEC);
    expect(t.exit).toBeNull();
    await runTo(t, t0 + 10 * SEC);
    expect(t.exit).toEqual({ reason: SHUTDOWN_watchdog, action: 'preserve' });
    const d = t.host.xen.domain(t.guest.domid)!;
    expect(d.shutdownCode).toBe(SHUTDOWN_watchdog);
    expect(now(t)).toBeGreaterThanOrEqual(t0 + 4 * SEC);
    expect(now(t)).toBeLessThan(t0 + 4.1 * SEC);
    expect(t.host.xen.console.text()).toMatch(/watchdog/);
    t.host.toolstack.destroy(t.guest.domid);
    expect(auditMemory(t.host.xen)).toEqual([]);
  }, 60_000);

  it('destroying a domain stops its watchdogs: no timer of the dead domain stays queued', () => {
    const t = start();
    const timers = t.host.xen.timers;
    expect(schedOp(t, SCHEDOP_watchdog, 0, 1000)).toBe(1);
    expect(schedOp(t, SCHEDOP_watchdog, 0, 2000)).toBe(2);
    const armed = timers.size;
    t.host.toolstack.destroy(t.guest.domid);
    // the vCPU timers go too, so count only what the watchdogs held: none may remain
    const probe = t.host.xen.timers.size;
    expect(probe).toBeLessThanOrEqual(armed - 2);
    expect(auditMemory(t.host.xen)).toEqual([]);
  });

  it('a cancelled watchdog never fires', async () => {
    const t = start();
    const t0 = now(t);
    expect(schedOp(t, SCHEDOP_watchdog, 0, 1)).toBe(1);
    expect(schedOp(t, SCHEDOP_watchdog, 1, 0)).toBe(0);
    await runTo(t, t0 + 3 * SEC);
    expect(t.exit).toBeNull();
    expect(t.host.xen.domain(t.guest.domid)!.isShutDown).toBe(false);
    t.host.toolstack.destroy(t.guest.domid);
  }, 60_000);
});
