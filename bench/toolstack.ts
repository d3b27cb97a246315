/**
 * toolstack: what creating and holding minios domains costs, through the toolstack the
 * daemon uses (xl.cfg parse, build, xenstore, console, unpause), on a host with xenstored
 * and the backends wired as `tsxen host` has them.
 *
 *   create-to-running  parse + build + boot of a 32 MiB minios until it runs its first
 *                      command (xenstore connected, console up): host ms and virtual ms,
 *                      best of TSXEN_BENCH_RUNS; the build alone (created paused, then
 *                      destroyed) is the baseline, so the ratio is what booting adds
 *   xl create          the same through the CLI: a `tsxen create` process against a
 *                      running daemon, until `xl list` would show it (process start included)
 *   100 in a row       100 minios (4 MiB each) created one after another on one host, each
 *                      running before the next: total, first 10 vs last 10 (no slowdown as
 *                      the host fills), then all destroyed; free memory back to the start
 *   density            more idle minios on the same host until memory runs out: how many,
 *                      machine memory per domain (guest RAM + what Xen and the toolstack
 *                      add), host heap per domain, and the host time one virtual second of
 *                      all of them idling takes
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchSuite } from './index.ts';
import { Host } from '../src/host/host.ts';
import { ensureXenstored } from '../src/host/xenstore_wiring.ts';
import { closeDrivers, ensureDrivers } from '../src/host/devices_wiring.ts';
import { HostDaemon } from '../src/host/daemon.ts';
import { hostPaths } from '../src/host/paths.ts';
import { parseXlConfig, pvConfig } from '../src/dom0/toolstack/xl_config.ts';
import { physInfo } from '../src/dom0/toolstack/xc_domain.ts';
import type { Guest } from '../src/dom0/toolstack/guest.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const MINIOS = join(ROOT, 'guests', 'build', 'minios.elf');
const BIN = join(ROOT, 'bin', 'tsxen.mjs');
const RUNS = Number(process.env.TSXEN_BENCH_RUNS ?? 3);

function newHost(memoryMiB: number): Host {
  const h = new Host({ memoryMiB, clock: 'virtual' });
  ensureXenstored(h);
  ensureDrivers(h);
  return h;
}

function freeKiB(h: Host): number {
  const pi = physInfo(h.xc);
  if (typeof pi === 'number') throw new Error(`physinfo: ${pi}`);
  return pi.freePages * 4;
}

/** Create a minios from xl.cfg text; `running` resolves when its console shows the first command. */
function createMinios(h: Host, kernel: Uint8Array, name: string, memory: number, opts: { paused?: boolean } = {}):
  { guest: Guest; running: () => boolean } {
  const cfg = pvConfig(parseXlConfig(`name="${name}"\nkernel="${MINIOS}"\nmemory=${memory}\nextra="cmd=\\"echo up; sleep 1000000\\""\n`, `${name}.cfg`));
  let text = '';
  const guest = h.toolstack.createPv(cfg, kernel, { paused: opts.paused, sink: (b) => void (text += Buffer.from(b).toString('latin1')) });
  return { guest, running: () => text.includes('> sleep') };
}

async function untilRunning(h: Host, running: () => boolean, what: string): Promise<void> {
  const end = await h.runUntil(running, { timeoutMs: 60_000 });
  if (end !== 'done') throw new Error(`${what} did not start (${end})`);
}

const ms = (x: number): string => `${x.toFixed(1)} ms`;

async function createToRunning(log: (l: string) => void, kernel: Uint8Array): Promise<void> {
  const h = newHost(256);
  try {
    let build = Infinity, boot = Infinity, virt = 0;
    for (let i = 0; i < Math.max(RUNS, 3); i++) {
      let t0 = performance.now();
      const p = createMinios(h, kernel, `b${i}`, 32, { paused: true });
      build = Math.min(build, performance.now() - t0);
      h.toolstack.destroy(p.guest.domid);
      await h.runUntil(() => false, { maxSystemNs: h.xen.time.now() + 1e6 }); // let the teardown settle
      const v0 = h.xen.time.now();
      t0 = performance.now();
      const r = createMinios(h, kernel, `r${i}`, 32);
      await untilRunning(h, r.running, 'minios');
      const t = performance.now() - t0;
      if (t < boot) {
        boot = t;
        virt = (h.xen.time.now() - v0) / 1e6;
      }
      h.toolstack.destroy(r.guest.domid);
    }
    log(`  create-to-running (32 MiB minios, best of ${Math.max(RUNS, 3)}): ${ms(boot)} host, ${ms(virt)} virtual`);
    log(`    baseline: the build alone (create paused + destroy) ${ms(build)}; booting to the first command costs ${(boot / build).toFixed(1)}x the build`);
  } finally {
    closeDrivers(h);
    h.toolstack.close();
  }
}

/** `tsxen create` processes against a daemon in this process (which must keep serving meanwhile). */
async function cliCreate(log: (l: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-bench-'));
  const d = await HostDaemon.start({ paths: hostPaths({ TSXEN_RUNDIR: dir }), memoryMiB: 256, clock: 'host', network: false });
  try {
    const env = { ...process.env, TSXEN_RUNDIR: dir, TSXEN_SOCKET: undefined };
    const run = (args: string[]): Promise<number> => new Promise((resolve) => {
      const p = spawn(process.execPath, [BIN, ...args], { env, stdio: 'ignore' });
      p.on('exit', (c) => resolve(c ?? -1));
    });
    let best = Infinity, version = Infinity;
    for (let i = 0; i < Math.max(RUNS, 3); i++) {
      const cfg = join(dir, `c${i}.cfg`);
      writeFileSync(cfg, `name="c${i}"\nkernel="${MINIOS}"\nmemory=32\nextra="cmd=\\"sleep 1000000\\""\n`);
      let t0 = performance.now();
      if (await run(['--version']) !== 0) throw new Error('tsxen --version failed');
      version = Math.min(version, performance.now() - t0);
      t0 = performance.now();
      if (await run(['create', '-q', cfg]) !== 0) throw new Error('tsxen create failed');
      best = Math.min(best, performance.now() - t0);
      if (await run(['destroy', `c${i}`]) !== 0) throw new Error('tsxen destroy failed');
    }
    log(`  xl create (CLI process, daemon running, best of ${Math.max(RUNS, 3)}): ${ms(best)}; baseline \`tsxen --version\` ${ms(version)} (process start)`);
  } finally {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function inARowAndDensity(log: (l: string) => void, kernel: Uint8Array): Promise<void> {
  const HOST_MIB = 1024, MEM = 4;
  const h = newHost(HOST_MIB);
  const guests: Guest[] = [];
  try {
    const free0 = freeKiB(h);
    const heap0 = process.memoryUsage();
    const times: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      const r = createMinios(h, kernel, `row${i}`, MEM);
      await untilRunning(h, r.running, `minios ${i}`);
      times.push(performance.now() - t);
      guests.push(r.guest);
    }
    const total = performance.now() - t0;
    const avg = (a: number[]): number => a.reduce((x, y) => x + y, 0) / a.length;
    log(`  100 in a row (${MEM} MiB minios, each running before the next): ${(total / 1000).toFixed(2)} s, ` +
      `${ms(total / 100)} each; first 10 ${ms(avg(times.slice(0, 10)))}, last 10 ${ms(avg(times.slice(-10)))}`);

    // Density: keep going until the machine's memory runs out.
    let why = '';
    for (let i = 100; ; i++) {
      let r;
      try {
        r = createMinios(h, kernel, `d${i}`, MEM);
      } catch (e) {
        why = (e as Error).message.split('\n')[0]!;
        break;
      }
      await untilRunning(h, r.running, `minios ${i}`);
      guests.push(r.guest);
    }
    const n = guests.length;
    const used = free0 - freeKiB(h);
    const heap = process.memoryUsage();
    log(`  density: ${n} idle minios on a ${HOST_MIB} MiB host (the next: ${why})`);
    log(`    machine memory per domain ${(used / n).toFixed(0)} KiB (${MEM * 1024} KiB guest RAM + ${(used / n - MEM * 1024).toFixed(0)} KiB Xen's own per domain: ` +
      `shared info, grant-table frames, the PAE PDPT and per-domain mapping L1, GDT frames)`);
    log(`    host heap per domain ${((heap.heapUsed - heap0.heapUsed) / n / 1024).toFixed(0)} KiB (JS objects: vCPUs, xenstore nodes, console, event channels)`);
    const v0 = h.xen.time.now(), t1 = performance.now();
    await h.runUntil(() => false, { maxSystemNs: v0 + 1e9 });
    log(`    one virtual second of ${n} idle domains: ${ms(performance.now() - t1)} host`);

    const t2 = performance.now();
    for (const g of guests) h.toolstack.destroy(g.domid);
    await h.runUntil(() => false, { maxSystemNs: h.xen.time.now() + 10e6 });
    const back = freeKiB(h);
    log(`  destroying all ${n}: ${ms(performance.now() - t2)}; free memory ${back === free0 ? 'back to where it started' : `${free0 - back} KiB short!`}`);
  } finally {
    closeDrivers(h);
    h.toolstack.close();
  }
}

export const toolstackSuite: BenchSuite = {
  name: 'toolstack',
  description: 'minios create-to-running, xl create, 100 domains in a row, idle-domain density',
  async run(log) {
    const kernel = new Uint8Array(readFileSync(MINIOS));
    await createToRunning(log, kernel);
    await cliCreate(log);
    await inARowAndDensity(log, kernel);
  },
};
