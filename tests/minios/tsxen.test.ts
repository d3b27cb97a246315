/**
 * minios on tsxen: the same kernel and scenarios that run on the real Xen
 * (tests/minios/refxen), booted through the tsxen host API.
 *
 * - "console" runs on any tsxen that boots PV guests: start of day, traps, the PV
 *   console ring, event channels, timers (sleep), memory reservation queries and the
 *   SMP probe; no xenstore needed (minios gives up on xenstored after 20 virtual s).
 * - Every scenario of tests/minios/refxen/scenarios runs once tsxen has what it needs
 *   (xenstored, blkback, netback, toolstack actions); until then it is skipped with the
 *   missing piece named. When it runs, it must reach the expected verdict, satisfy the
 *   scenario's disk checks, and print the same result lines (status and command) as real
 *   Xen did (refxen/refxen-results.json).
 */
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseMiniosConsole, diskPatternSector } from './console_log.ts';
import { loadScenarios, type Scenario } from './scenario.ts';
import {
  bootMinios, hostHasXenstored, loadTsxen, missingFor, needsGrantTables, probeHypervisor, type TsxenApi,
} from './tsxen_harness.ts';
import { RESULTS_FILE, type RefxenResults } from './refxen/collect.ts';
import { XENCONS_INTERFACE_IN_CONS, XENCONS_INTERFACE_IN_PROD } from '../../src/abi/gen/io/console.ts';
import { attachDisk, attachNic, detachDevice } from '../../src/dom0/toolstack/device_ops.ts';
import { parseDiskSpec } from '../../src/dom0/toolstack/xl_disk.ts';
import { parseVifSpec } from '../../src/dom0/toolstack/xl_vif.ts';
import { vdevNumber } from '../../src/dom0/backends/device_specs.ts';
import type { Toolstack } from '../../src/dom0/toolstack/toolstack.ts';
import type { Guest } from '../../src/dom0/toolstack/guest.ts';

const GUESTS = fileURLToPath(new URL('../../guests/', import.meta.url));
const api = await loadTsxen();
const reference: RefxenResults | null = existsSync(RESULTS_FILE)
  ? (JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as RefxenResults) // written by collect.ts
  : null;

// Every part minios needs exists in tsxen now: a missing one is a failure, never a skip.
function needApi(_ctx?: unknown): TsxenApi {
  if (typeof api === 'string') throw new Error(`tsxen cannot run minios: ${api}`);
  return api;
}

describe('minios on tsxen', () => {
  beforeAll(() => {
    execFileSync('make', ['-s', '-C', GUESTS, 'minios'], { stdio: 'inherit' });
  });

  it('console: boots, prints, keeps time, and runs commands without xenstore', async (ctx) => {
    const tsxen = needApi(ctx);
    const r = await bootMinios(tsxen, {
      xl: 'extra="cmd=\\"echo hello from minios; time; mem; smp; sleep 250ms; spin 20ms\\""\n',
    });
    const run = parseMiniosConsole(r.console);
    expect(r.console, r.xenLog.slice(-20).join('\n')).toContain("minios: tsxen's PV kernel on Xen");
    expect(run.lines).toContain('hello from minios');
    expect(run.results.map((x) => `${x.status} ${x.what}`)).toEqual([
      'OK time', 'OK mem', 'OK smp', 'OK sleep', 'OK spin',
    ]);
    const sleep = run.results.find((x) => x.what === 'sleep')!; // present: checked above
    expect(Number(sleep.fields.slept_us)).toBeGreaterThanOrEqual(250_000);
    expect(Number(sleep.fields.slept_us)).toBeLessThan(400_000);
    const mem = run.results.find((x) => x.what === 'mem')!; // present: checked above
    expect(mem.fields.nr_pages).toBe('8192');
    expect(mem.fields.xen_current).toBe('8192');
    expect(run.verdict).toBe('SUCCESS');
    expect(r.exit?.reason).toBe(0);
  });

  it('smp: two vCPUs come up, answer IPIs and both run the spin workload', async (ctx) => {
    const tsxen = needApi(ctx);
    const r = await bootMinios(tsxen, { xl: 'vcpus=2\nextra="cmd=\\"smp 20; spin 30ms\\""\n' });
    const run = parseMiniosConsole(r.console);
    expect(r.console).toContain('smp: 2 of 2 vCPUs online');
    expectPromptSecondaries(r.console);
    const ipi = run.results.find((x) => x.what === 'smp ipi');
    expect(ipi?.status, r.console).toBe('OK');
    expect(ipi?.fields.cpu).toBe('1');
    const spin = run.results.find((x) => x.what === 'spin');
    expect(spin?.status, r.console).toBe('OK');
    expect(Number(spin?.fields.cpu0)).toBeGreaterThan(0);
    expect(Number(spin?.fields.cpu1)).toBeGreaterThan(0);
    expect(Number(spin?.fields.elapsed_ms)).toBeGreaterThanOrEqual(30);
    expect(Number(spin?.fields.elapsed_ms)).toBeLessThan(100);
    expect(run.verdict).toBe('SUCCESS');
  });

  it('shutdown crash: the domain ends with SHUTDOWN_crash and the verdict is printed first', async (ctx) => {
    const tsxen = needApi(ctx);
    const r = await bootMinios(tsxen, { xl: 'extra="cmd=\\"echo bye; shutdown crash\\""\n' });
    expect(parseMiniosConsole(r.console).verdict).toBe('SUCCESS');
    expect(r.exit?.reason).toBe(3);
  });

  it('interactive shell: typed lines run as commands, with echo and backspace', async (ctx) => {
    const tsxen = needApi(ctx);
    const script = ['echo typed-x\x7f line\r', 'mem\r', 'bogus\r', 'poweroff\r'];
    let prompts = 0;
    const r = await bootMinios(tsxen, {
      xl: '',
      onConsole: (text, _host, guest) => {
        const seen = text.split('minios> ').length - 1;
        if (seen > prompts && script.length) {
          if (!guest.console) throw new Error('the toolstack guest has no console input');
          prompts = seen;
          guest.console!.input(new TextEncoder().encode(script.shift()!)); // checked above; length checked
        }
      },
    });
    const run = parseMiniosConsole(r.console);
    expect(run.lines).toContain('typed- line');
    expect(run.results.map((x) => `${x.status} ${x.what}`)).toEqual(['OK mem', 'FAIL unknown command "bogus" (try help)']);
    expect(run.verdict).toMatch(/^FAILURE \(1 of 3 commands failed: bogus\)/);
    expect(r.exit?.reason).toBe(0);
  });

  it('hostile console backend: input indices beyond the ring are dropped, later input works', async (ctx) => {
    const tsxen = needApi(ctx);
    let stage = 0, slices = 0;
    const r = await bootMinios(tsxen, {
      xl: '',
      onConsole: (text, host, guest) => {
        if (!guest.built || !guest.console) throw new Error('the toolstack guest exposes no console frame or input');
        const ring = guest.built!.consoleMfn * 4096; // checked above
        if (stage === 0 && text.includes('minios> ')) {
          // Junk a broken backend might leave: printable bytes, and a producer far ahead.
          for (let i = 0; i < 1024; i += 4) host.xen.mem.write32(ring + i, 0x5a5a5a5a);
          const cons = host.xen.mem.read32(ring + XENCONS_INTERFACE_IN_CONS);
          host.xen.mem.write32(ring + XENCONS_INTERFACE_IN_PROD, (cons + 0x12345) >>> 0);
          guest.console!.input(new TextEncoder().encode('\r')); // notify; all of it is dropped
          stage = 1;
        } else if (stage === 1 && ++slices === 5) {
          guest.console!.input(new TextEncoder().encode('echo alive\r'));
          stage = 2;
        } else if (stage === 2 && text.split('minios> ').length > 2) {
          guest.console!.input(new TextEncoder().encode('poweroff\r'));
          stage = 3;
        }
      },
    });
    const run = parseMiniosConsole(r.console);
    expect(stage).toBe(3);
    expect(run.lines.some((l) => l.endsWith('alive') && !l.includes('ZZ')), r.console).toBe(true);
    expect(run.verdict).toBe('SUCCESS');
  });

  const scenarios = loadScenarios().filter((s) => s.only?.where !== 'refxen');
  for (const sc of scenarios) {
    it(`scenario ${sc.name}`, async (ctx) => {
      const tsxen = needApi(ctx);
      const missing = missingFor(tsxen, sc);
      if (!hostHasXenstored(tsxen)) missing.unshift('the host runs no xenstored');
      if (needsGrantTables(sc) && !(await probeHypervisor(tsxen)).grantTables)
        missing.unshift('the hypervisor has no grant tables (GNTTABOP_setup_table fails)');
      expect(missing, 'tsxen lacks what the scenario needs').toEqual([]);
      await runScenario(tsxen, sc, ctx);
    }, 300_000);
  }
});

/**
 * A secondary vCPU wakes CPU 0 (IPI_WAKE) when it has come up or is about to park, so
 * CPU 0's waits for it end at once, in virtual time too. Without the wake-up CPU 0 slept
 * until the wait's timeout (5 s each for the boot, the park before a save and the
 * restart after a restore) unless some unrelated event woke it first.
 */
function expectPromptSecondaries(console: string): void {
  const boot = [...console.matchAll(/smp: (\d+) of (\d+) vCPUs online in (\d+) us/g)];
  expect(boot.length, 'the smp start-of-day line').toBeGreaterThan(0);
  for (const m of boot) expect(Number(m[3]), m[0]).toBeLessThan(500_000);
  for (const m of console.matchAll(/RESUME: rc=\d+ \([^)]*\) park_us=(\d+) unpark_us=(\d+)/g)) {
    expect(Number(m[1]), m[0]).toBeLessThan(500_000);
    expect(Number(m[2]), m[0]).toBeLessThan(500_000);
  }
}

/**
 * A UDP echo server on port 7 of a loopback address of its own (the gateway maps 10.0.2.2
 * there), or why there cannot be one (port 7 needs root or CAP_NET_BIND_SERVICE).
 */
async function udpEchoOnPort7(): Promise<{ ip: string; sock: Socket } | string> {
  for (let i = 0; i < 8; i++) {
    const ip = `127.0.${randomInt(1, 255)}.${randomInt(2, 255)}`;
    const sock = createSocket('udp4');
    const err = await new Promise<NodeJS.ErrnoException | null>((res) => {
      sock.once('error', res);
      sock.bind(7, ip, () => res(null));
    });
    if (err === null) {
      sock.on('message', (m, from) => sock.send(m, from.port, from.address));
      return { ip, sock };
    }
    try { sock.close(); } catch { /* never bound */ }
    if (err.code === 'EACCES') return 'binding UDP port 7 for the echo server 10.0.2.2:7 needs root or CAP_NET_BIND_SERVICE';
  }
  return 'no free loopback address for the echo server on UDP port 7';
}

async function runScenario(tsxen: TsxenApi, sc: Scenario, ctx: { skip: (note?: string) => never }): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'minios-'));
  let echo: Awaited<ReturnType<typeof udpEchoOnPort7>> | null = null;
  try {
    let xl = sc.xl;
    const image = join(dir, `${sc.name}.img`);
    if (sc.diskSize !== null) {
      writeFileSync(image, new Uint8Array(0));
      execFileSync('truncate', ['-s', String(sc.diskSize), image]);
      xl = xl.replace(/target=\/tmp\/[^',\]]+/, `target=${image}`);
    }
    const pending = [...sc.after];
    const problems: string[] = [];
    echo = /\b10\.0\.2\.2 7\b/.test(xl) ? await udpEchoOnPort7() : null; // dom0-run.sh's echo server on 10.0.2.2:7
    if (typeof echo === 'string') ctx.skip(echo);
    const r = await bootMinios(tsxen, {
      xl, hostLoopback: echo?.ip,
      onConsole: (text, host, guest, session) => {
        while (pending.length && text.split('\n').some((l) => pending[0]!.pattern.test(l))) {
          const a = pending.shift()!; // length checked
          const ts = host.toolstack as Record<string, (...args: unknown[]) => unknown>; // methods probed by missingFor
          switch (a.action) {
            case 'shutdown': ts.shutdown!(guest.domid, 'poweroff'); break;
            case 'reboot': ts.shutdown!(guest.domid, 'reboot'); break;
            case 'mem-set': ts.memSet!(guest.domid, Number(a.args[0])); break;
            case 'expect-mem': {
              const mem = (ts.domainInfo!(guest.domid) as { memMiB: number }).memMiB; // DomainListEntry
              if (mem !== Number(a.args[0])) problems.push(`expect-mem: xl list says ${mem} MiB, want ${a.args[0]}`);
              break;
            }
            case 'vcpu-times': {
              const rows = ts.vcpuList!(guest.domid) as Array<{ online: boolean; cpuTimeNs: number; vcpu: number }>; // VcpuListEntry
              for (const v of rows) if (v.online && v.cpuTimeNs <= 0) problems.push(`vcpu-times: vCPU ${v.vcpu} ran for no time`);
              break;
            }
            case 'save-restore': {
              session.busy++;
              const domid = guest.domid;
              (ts.save!(domid) as Promise<Uint8Array>)
                .then((image) => ts.restore!(image) as Promise<typeof guest>)
                .then((g) => session.follow(g))
                .catch((e: Error) => problems.push(`save-restore: ${e.message}`))
                .finally(() => session.busy--);
              break;
            }
            case 'ping': {
              session.busy++;
              const [ip, n] = [a.args[0]!, Number(a.args[1])]; // arity checked by scenario.ts
              (ts.dom0Ping!(ip, n) as Promise<{ received: number }>)
                .then((p) => { if (p.received !== n) problems.push(`dom0 ping ${ip}: ${p.received}/${n} replies`); })
                .catch((e: Error) => problems.push(`ping: ${e.message}`))
                .finally(() => session.busy--);
              break;
            }
            case 'udp-echo': {
              session.busy++;
              const [ip, port, n] = [a.args[0]!, Number(a.args[1]), Number(a.args[2])]; // arity checked by scenario.ts
              (ts.dom0UdpEcho!(ip, port, n) as Promise<{ ok: number }>)
                .then((p) => { if (p.ok !== n) problems.push(`dom0 UDP echo via ${ip}:${port}: ${p.ok}/${n}`); })
                .catch((e: Error) => problems.push(`udp-echo: ${e.message}`))
                .finally(() => session.busy--);
              break;
            }
            case 'block-detach': case 'network-detach': {
              // xl block-detach / network-detach: libxl's unplug, no force (the frontend must close).
              session.busy++;
              const t = host.toolstack as unknown as Toolstack; // the host's toolstack (src/dom0/toolstack)
              const type = a.action === 'block-detach' ? 'vbd' : 'vif';
              const devid = type === 'vbd' ? vdevNumber(a.args[0]!) : Number(a.args[0]); // arity checked by scenario.ts
              const t0 = host.xen.time.now();
              detachDevice(guest as unknown as Guest, t.drivers!, type, devid, false) // the toolstack's guest; drivers wired by bootMinios
                .then(() => {
                  const ms = (host.xen.time.now() - t0) / 1e6;
                  if (ms > 10_000) problems.push(`${a.action} ${a.args[0]}: ${ms} ms (libxl would have forced it after 10 s)`);
                })
                .catch((e: Error) => problems.push(`${a.action}: ${e.message}`))
                .finally(() => session.busy--);
              break;
            }
            case 'block-attach': case 'network-attach': {
              const t = host.toolstack as unknown as Toolstack; // the host's toolstack (src/dom0/toolstack)
              const spec = a.args[0]!.replace(/target=\/tmp\/[^,]+/, `target=${image}`); // arity checked by scenario.ts
              try {
                if (a.action === 'block-attach') {
                  const d = parseDiskSpec(spec);
                  if (d instanceof Error) throw d;
                  attachDisk(t, guest as unknown as Guest, t.drivers!, d); // the toolstack's guest; drivers wired
                } else {
                  const v = parseVifSpec(spec);
                  if (v instanceof Error) throw v;
                  attachNic(t, guest as unknown as Guest, t.drivers!, v); // the toolstack's guest; drivers wired
                }
              } catch (e) {
                problems.push(`${a.action}: ${(e as Error).message}`);
              }
              break;
            }
            case 'ok': case 'sleep': break;
            default: problems.push(`action ${a.action} is not driven on tsxen yet`);
          }
        }
      },
    });
    expect(problems).toEqual([]);
    const run = parseMiniosConsole(r.console);
    expect(run.verdict ?? `(no verdict; ${r.end})`, r.console.slice(-3000)).toMatch(new RegExp(`^${sc.expect}`));
    expectPromptSecondaries(r.console);
    for (const c of sc.checkDisk) {
      const data = readFileSync(image);
      for (let s = c.start; s < c.start + c.count; s++) {
        expect(data.subarray(s * 512, (s + 1) * 512).equals(diskPatternSector(c.seed, s)), `${sc.name}: sector ${s}`).toBe(true);
      }
    }
    const ref = reference?.scenarios[sc.name];
    if (ref) {
      expect(run.results.map((x) => `${x.status} ${x.what}`)).toEqual(ref.results.map((x) => `${x.status} ${x.what}`));
    }
  } finally {
    if (echo !== null && typeof echo !== 'string') echo.sock.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
