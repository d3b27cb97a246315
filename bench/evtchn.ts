/**
 * evtchn: event-channel round trips and xenstore requests from a guest, on the embedded
 * host (virtual clock) with the devchan bench kernel (guests/tests/devchan/bench.c):
 *
 *   loopback     baseline: one guest, an IPI to itself: send + SCHEDOP_poll + clear,
 *                the same hypercalls as a round trip but no second domain
 *   domU<->domU  two guests: the client sends, the server polls and echoes, the client
 *                polls (two sends, two polls, two domain switches per round trip)
 *   domU<->dom0  the server guest and dom0's XenEvtchn: dom0's handler runs as the native
 *                domain's upcall (with its 50 us reaction latency in system time)
 *   xenstore     write + read pairs from a guest over its ring (2 requests each)
 *
 * Host figures: wall time over the guest's timed loop (between its "go" and "done"
 * xenstore keys), per round trip / request pair; the guest's own figure (Xen system time,
 * virtual) is printed beside. Rounds: TSXEN_EVTCHN_ROUNDS (default 20000).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchSuite } from './index.ts';
import { DevchanHost, type DevchanGuest } from './evtchn_host.ts';
import { XenEvtchn } from '../src/dom0/libs/evtchn.ts';

const KERNEL = join(import.meta.dirname, '..', 'guests', 'build', 'devchan-bench.elf');
const ROUNDS = Number(process.env.TSXEN_EVTCHN_ROUNDS ?? 20000);

/** Wall ms between `g` publishing "go" and "done"; and its console. */
async function timed(h: DevchanHost, g: DevchanGuest): Promise<{ ms: number; console: string }> {
  await h.get(g, 'go');
  const t0 = performance.now();
  await h.get(g, 'done');
  const ms = performance.now() - t0;
  await h.host.runUntil(() => g.exited(), { timeoutMs: 60_000 });
  if (!/Test result: SUCCESS/.test(g.console())) throw new Error(`bench guest ${g.spec.name} failed:\n${g.console()}`);
  return { ms, console: g.console() };
}

function guestFigure(console: string): string {
  const m = /(\d+) ns each/.exec(console);
  return m ? `${m[1]} ns guest time` : 'no guest figure';
}

async function single(role: string): Promise<{ ms: number; console: string }> {
  const h = new DevchanHost();
  const [g] = h.create('bench', [{ name: 'solo', kernel: KERNEL, role }]);
  h.xs.write(`/local/domain/${g!.domid}/devchan/rounds`, String(ROUNDS)); // SAFETY: one spec, one guest
  h.unpause([g!]);
  return timed(h, g!);
}

async function pair(): Promise<{ ms: number; console: string }> {
  const h = new DevchanHost();
  const gs = h.create('bench', [
    { name: 'server', kernel: KERNEL, role: 'evtchn-server', peer: 'client' },
    { name: 'client', kernel: KERNEL, role: 'evtchn-client', peer: 'server' },
  ]);
  for (const g of gs) h.xs.write(`/local/domain/${g.domid}/devchan/rounds`, String(ROUNDS));
  h.unpause(gs);
  const r = await timed(h, gs[1]!); // SAFETY: two specs
  await h.host.runUntil(() => gs.every((g) => g.exited()), { timeoutMs: 60_000 });
  return r;
}

async function withDom0(): Promise<number> {
  const h = new DevchanHost();
  const [g] = h.create('bench', [{ name: 'server', kernel: KERNEL, role: 'evtchn-server', peer: 'dom0' }]);
  const guest = g!; // SAFETY: one spec
  h.xs.write(`/local/domain/${guest.domid}/devchan/rounds`, String(ROUNDS));
  h.unpause([guest]);
  const sport = Number(await h.get(guest, 'port'));
  const ev = new XenEvtchn(h.host.xc, h.host.events);
  let replies = 0;
  const port = ev.bindInterdomain(guest.domid, sport, () => { replies++; });
  // Drive the machine directly: each step runs until dom0 has an event to handle.
  const t0 = performance.now();
  for (let i = 0; i < ROUNDS; i++) {
    ev.notify(port);
    for (let k = 0; replies <= i && k < 1_000_000; k++) h.host.step(1_000_000);
  }
  const ms = performance.now() - t0;
  if (replies < ROUNDS) throw new Error(`dom0 ping-pong: ${replies} of ${ROUNDS} replies`);
  ev.close();
  return ms;
}

export const evtchnSuite: BenchSuite = {
  name: 'evtchn',
  description: 'event-channel round trips (domU-domU, domU-dom0, loopback baseline) and xenstore requests from a guest ring',
  async run(log) {
    if (!existsSync(KERNEL)) {
      log(`  skipped: ${KERNEL} missing (make -C guests devchan-tests)`);
      return;
    }
    const base = await single('evtchn-loopback');
    const baseNs = (base.ms * 1e6) / ROUNDS;
    log(`  loopback (baseline)  ${baseNs.toFixed(0).padStart(8)} ns per round trip   (${guestFigure(base.console)})`);
    const p = await pair();
    const pairNs = (p.ms * 1e6) / ROUNDS;
    log(`  domU <-> domU        ${pairNs.toFixed(0).padStart(8)} ns per round trip   ${(pairNs / baseNs).toFixed(2)}x baseline   (${guestFigure(p.console)})`);
    const d0 = await withDom0();
    const d0Ns = (d0 * 1e6) / ROUNDS;
    log(`  domU <-> dom0        ${d0Ns.toFixed(0).padStart(8)} ns per round trip   ${(d0Ns / baseNs).toFixed(2)}x baseline`);
    const xs = await single('xs-ops');
    const opsPerS = (2 * ROUNDS * 1000) / xs.ms;
    log(`  xenstore from a guest ring ${opsPerS.toFixed(0).padStart(8)} requests/s   (${guestFigure(xs.console)} per write+read)`);
  },
};
