/**
 * Host-wide xl commands: info (xl_info.c's key/value lines), dmesg, top (xentop's screen:
 * summary, the domain table with CPU% from successive samples, live on a TTY or in batch
 * mode) and tsxen's `trace`, which follows the hypervisor's trace buffer like xentrace
 * piped into xentrace_format.
 */
import * as abiXen from '../../abi/xen.ts';
import { TRC_DOM, TRC_HYPERCALL, TRC_PGTYPE, TRC_SCHED_SWITCH, TRC_TRAP } from '../../xen/common/trace.ts';
import type { Command } from '../command.ts';
import { flag, value, xlCommand } from '../xl_command.ts';
import { asCliExit, connectHost, followStream, withHost } from '../host_client.ts';
import { CliExit } from '../xl_opts.ts';
import { colour, err, out, padR, useColour } from '../output.ts';
import type { DomainListEntry, VcpuListEntry } from '../../dom0/toolstack/toolstack_ops.ts';

const info = xlCommand({
  name: 'info', synopsis: '[-n|--numa] [name]', summary: 'Get information about Xen host',
  options: '-n, --numa         List host NUMA topology information', spec: { short: 'n', long: { numa: 'n' } },
  async run(p) {
    return withHost(async (c) => {
      const lines = await c.call<Array<[string, string]>>('info');
      const numa = flag(p, 'n');
      const name = numa ? undefined : p.operands[0];
      let s = '';
      for (const [k, v] of lines) {
        const line = `${k.padEnd(23)}: ${v}\n`;
        if (name !== undefined) {
          if (line.startsWith(name)) s += `${v}\n`;
        } else {
          s += line;
        }
        if (numa && k === 'free_cpus') {
          const n = Number(lines.find(([x]) => x === 'nr_cpus')?.[1] ?? '1');
          const total = Number(lines.find(([x]) => x === 'total_memory')?.[1] ?? '0');
          const free = Number(lines.find(([x]) => x === 'free_memory')?.[1] ?? '0');
          s += 'cpu_topology           :\ncpu:    core    socket     node\n';
          for (let i = 0; i < n; i++) s += `${padR(i, 3)}:    ${padR(i, 4)}     ${padR(0, 4)}     ${padR(0, 4)}\n`;
          s += 'device topology        :\ndevice           node\nNo device topology data available\n';
          s += `numa_info              :\nnode:    memsize    memfree    distances\n   0:    ${padR(total, 6)}     ${padR(free, 6)}      10\n`;
        }
      }
      out(s);
      return 0;
    });
  },
});

const dmesg = xlCommand({
  name: 'dmesg', synopsis: '[-c]', summary: 'Read and/or clear dmesg buffer',
  options: '  -c                        Clear dmesg buffer as well as printing it', spec: { short: 'c', long: { clear: 'c' } },
  async run(p) {
    return withHost(async (c) => {
      out(await c.call<string>('dmesg', { clear: flag(p, 'c') }));
      return 0;
    });
  },
});

interface TopDomain extends DomainListEntry {
  readonly nets: number;
  readonly vbds: number;
}

interface TopSnapshot {
  readonly nowNs: number;
  readonly hostMs: number;
  readonly xenVersion: string;
  readonly physinfo: { nrCpus: number; cpuKhz: number; totalKiB: number; freeKiB: number } | null;
  readonly domains: TopDomain[];
  readonly vcpus?: VcpuListEntry[];
}

/** One xentop screen from two samples (CPU% needs the previous one). */
export function formatTop(cur: TopSnapshot, prev: TopSnapshot | null, showVcpus: boolean): string {
  const t = new Date(cur.hostMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  let s = `xentop - ${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}   Xen ${cur.xenVersion}\n`;
  let run = 0, block = 0, pause = 0, crash = 0, dying = 0, shut = 0;
  for (const d of cur.domains) {
    if (d.running) run++;
    else if (d.blocked) block++;
    else if (d.paused) pause++;
    else if (d.shutdown && d.shutdownReason !== 3) shut++;
    else if (d.shutdown) crash++;
    else if (d.dying) dying++;
  }
  s += `${cur.domains.length} domains: ${run} running, ${block} blocked, ${pause} paused, ${crash} crashed, ${dying} dying, ${shut} shutdown \n`;
  const pi = cur.physinfo;
  const total = pi?.totalKiB ?? 0, free = pi?.freeKiB ?? 0;
  s += `Mem: ${total}k total, ${total - free}k used, ${free}k free    CPUs: ${pi?.nrCpus ?? 0} @ ${Math.floor((pi?.cpuKhz ?? 0) / 1000)}MHz\n`;
  const head = ['NAME', 'STATE', 'CPU(sec)', 'CPU(%)', 'MEM(k)', 'MEM(%)', 'MAXMEM(k)', 'MAXMEM(%)', 'VCPUS', 'NETS',
    'NETTX(k)', 'NETRX(k)', 'VBDS', 'VBD_OO', 'VBD_RD', 'VBD_WR', 'VBD_RSECT', 'VBD_WSECT', 'SSID'];
  const widths = [10, 6, 10, 6, 10, 6, 10, 9, 5, 4, 8, 8, 4, 8, 8, 8, 10, 10, 4];
  s += `${colour(head.map((h, i) => padR(h, widths[i]!)).join(' '), 'bold')}\n`;
  const dt = prev !== null ? (cur.nowNs - prev.nowNs) / 1000 : 0;
  for (const d of cur.domains) {
    const old = prev?.domains.find((x) => x.domid === d.domid);
    const pct = old !== undefined && dt > 0 ? (d.cpuTimeNs - old.cpuTimeNs) / 10 / dt : 0;
    const state = `${d.dying ? 'd' : '-'}${d.shutdown && d.shutdownReason !== 3 ? 's' : '-'}${d.blocked ? 'b' : '-'}`
      + `${d.shutdown && d.shutdownReason === 3 ? 'c' : '-'}${d.paused ? 'p' : '-'}${d.running ? 'r' : '-'}`;
    const cells = [
      d.name.slice(0, 10).padStart(10), state, padR(Math.floor(d.cpuTimeNs / 1e9), 10), pct.toFixed(1).padStart(6),
      padR(d.currentKiB, 10), (total > 0 ? (d.currentKiB / total) * 100 : 0).toFixed(1).padStart(6),
      padR(d.maxKiB, 10), (total > 0 ? (d.maxKiB / total) * 100 : 0).toFixed(1).padStart(9), padR(d.vcpus, 5),
      padR(d.nets, 4), padR(0, 8), padR(0, 8), padR(d.vbds, 4), padR('-', 8), padR('-', 8), padR('-', 8), padR('-', 10),
      padR('-', 10), padR(0, 4),
    ];
    s += `${cells.join(' ')}\n`;
    if (showVcpus && cur.vcpus) {
      const vs = cur.vcpus.filter((v) => v.domid === d.domid && v.online);
      s += `VCPUs(sec): ${vs.map((v, i) => `${i !== 0 && i % 5 === 0 ? '\n        ' : ''} ${padR(v.vcpu, 2)}: ${padR(Math.floor(v.cpuTimeNs / 1e9), 10)}s`).join('')}\n`;
    }
  }
  return s;
}

const top = xlCommand({
  name: 'top', synopsis: '[-d SECONDS] [-b] [-i N] [-v]', summary: 'Monitor a host and the domains in real time',
  options: '-d, --delay=SECONDS  seconds between updates (default 3)\n-b, --batch          output in batch mode, no user input accepted\n'
    + '-i, --iterations     number of iterations before exiting\n-v, --vcpus          output vcpu data\n'
    + '    --json           (tsxen) one JSON snapshot per line\nOn a terminal: q quits, v toggles the vCPU lines.',
  spec: { short: 'd:bi:vJ', long: { delay: 'd', batch: 'b', iterations: 'i', vcpus: 'v', json: 'J' } },
  async run(p) {
    const delay = Number(value(p, 'd') ?? '3');
    if (!(delay > 0)) throw new CliExit(1, '', `Invalid delay: ${value(p, 'd')}\n`);
    const itText = value(p, 'i');
    const iterations = itText !== undefined ? Number(itText) : undefined;
    if (iterations !== undefined && !(Number.isInteger(iterations) && iterations > 0)) throw new CliExit(1, '', `Invalid iterations: ${itText}\n`);
    const batch = flag(p, 'b') || flag(p, 'J') || !process.stdout.isTTY;
    let showVcpus = flag(p, 'v');
    const c = await connectHost();
    let prev: TopSnapshot | null = null;
    const stdin = process.stdin;
    const interactive = !batch && stdin.isTTY === true;
    const stream = c.stream('top', { delayMs: Math.round(delay * 1000), iterations, vcpus: true }, (e) => {
      const snap = e as TopSnapshot;
      if (flag(p, 'J')) out(`${JSON.stringify(snap)}\n`);
      else if (batch) out(`${formatTop(snap, prev, showVcpus)}\n`);
      else out(`\x1b[H\x1b[2J${formatTop(snap, prev, showVcpus)}${useColour() ? colour(' Q', 'bold') : ' Q'}uit  ${useColour() ? colour('V', 'bold') : 'V'}CPUs\n`);
      prev = snap;
    });
    const onKey = (b: Buffer): void => {
      const k = b.toString('latin1').toLowerCase();
      if (k.includes('q') || b.includes(3) || b.includes(0x1b)) stream.cancel();
      if (k.includes('v')) showVcpus = !showVcpus;
    };
    if (interactive) {
      stdin.setRawMode(true);
      stdin.on('data', onKey);
      stdin.resume();
    }
    const stop = (): void => stream.cancel();
    process.once('SIGINT', stop);
    try {
      await stream.done;
    } catch (e) {
      throw asCliExit(e);
    } finally {
      process.off('SIGINT', stop);
      if (interactive) {
        stdin.off('data', onKey);
        stdin.setRawMode(false);
        stdin.pause();
      }
      c.close();
    }
    return 0;
  },
});

const HYPERCALL_NAMES = new Map<number, string>(
  Object.entries(abiXen).filter(([k, v]) => k.startsWith('__HYPERVISOR_') && typeof v === 'number')
    .map(([k, v]) => [v as number, k.slice('__HYPERVISOR_'.length)]), // filtered to numbers above
);

/** One trace record as a line (xentrace_format style). */
export function formatTraceRecord(r: { time: number; event: number; a: number; b: number }): string {
  const t = `${(r.time / 1e6).toFixed(6).padStart(14)} ms`;
  const dv = (x: number): string => (x < 0 ? 'idle' : `d${x >>> 16}v${x & 0xffff}`);
  switch (r.event) {
    case TRC_HYPERCALL: return `${t}  hypercall  ${dv(r.a).padEnd(8)} ${HYPERCALL_NAMES.get(r.b) ?? `#${r.b}`}`;
    case TRC_TRAP: return `${t}  trap       ${dv(r.a).padEnd(8)} vector ${r.b}`;
    case TRC_PGTYPE: return `${t}  page-type  mfn ${(r.a >>> 0).toString(16)} type_info ${(r.b >>> 0).toString(16).padStart(8, '0')}`;
    case TRC_SCHED_SWITCH: {
      const sw = (x: number): string => (x < 0 ? 'idle' : `d${Math.floor(x / 65536)}v${x % 65536}`);
      return `${t}  switch     ${sw(r.a)} -> ${sw(r.b)}`;
    }
    case TRC_DOM: return `${t}  domain     d${r.a} event ${r.b}`;
    default: return `${t}  event 0x${r.event.toString(16)} a=${r.a} b=${r.b}`;
  }
}

const trace = xlCommand({
  name: 'trace', synopsis: '[-n COUNT] [--history] [--json]', summary: 'Follow the hypervisor trace buffer live (tsxen)',
  options: '-n, --count=COUNT   stop after COUNT records\n    --history       start with the records already in the buffer\n'
    + '    --json          one JSON record per line\nRecords: hypercalls, bounced traps, page-type changes, scheduler switches. Ctrl-C stops.',
  spec: { short: 'n:HJ', long: { count: 'n', history: 'H', json: 'J' } },
  async run(p) {
    const countText = value(p, 'n');
    const max = countText !== undefined ? Number(countText) : undefined;
    if (max !== undefined && !(Number.isInteger(max) && max > 0)) throw new CliExit(1, '', `Invalid count: ${countText}\n`);
    const c = await connectHost();
    let printed = 0;
    const stream = c.stream('trace', { history: flag(p, 'H'), max }, (e) => {
      const ev = e as { records: Array<{ time: number; event: number; a: number; b: number }>; lost: number };
      if (ev.lost > 0) err(`(${ev.lost} records lost: the buffer wrapped)\n`);
      let s = '';
      for (const r of ev.records) {
        if (max !== undefined && printed >= max) break;
        s += flag(p, 'J') ? `${JSON.stringify(r)}\n` : `${formatTraceRecord(r)}\n`;
        printed++;
      }
      out(s);
    });
    await followStream(c, stream);
    return 0;
  },
});

export const HOST_INFO_COMMANDS: readonly Command[] = [info, dmesg, top, trace];

