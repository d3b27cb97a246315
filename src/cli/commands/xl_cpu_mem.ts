/**
 * xl's memory and CPU commands: mem-set, mem-max, vcpu-set, vcpu-list, vcpu-pin,
 * sched-credit (tools/xl/xl_mem.c, xl_vcpu.c, xl_sched.c), printing xl's tables.
 */
import type { Command } from '../command.ts';
import { flag, value, xlCommand } from '../xl_command.ts';
import { withHost } from '../host_client.ts';
import { CliExit } from '../xl_opts.ts';
import { fixed1, json, out, padL, padR } from '../output.ts';
import type { SchedCreditEntry, VcpuListEntry } from '../../dom0/toolstack/toolstack_ops.ts';

function memCommand(name: 'mem-set' | 'mem-max', summary: string): Command {
  return xlCommand({
    name, synopsis: '<Domain> <MemMB[\'b\'[bytes]|\'k\'[KB]|\'m\'[MB]|\'g\'[GB]|\'t\'[TB]]>', summary,
    spec: { short: '', required: 2 },
    async run(p) {
      return withHost(async (c) => {
        await c.call(name, { domain: p.operands[0]!, size: p.operands[1]! });
        return 0;
      });
    },
  });
}

/** xl vcpu-list's table (print_vcpuinfo). */
export function formatVcpuList(rows: readonly VcpuListEntry[]): string {
  let s = `${padL('Name', 32)} ${padR('ID', 5)} ${padR('VCPU', 5)} ${padR('CPU', 5)} ${padR('State', 5)} ${padR('Time(s)', 9)} Affinity (Hard / Soft)\n`;
  for (const v of rows) {
    s += `${padL(v.name, 32)} ${padR(v.domid, 5)} ${padR(v.vcpu, 5)}`;
    s += v.online ? `${padR(v.cpu, 5)} ${padR(v.running ? 'r' : '-', 3)}${v.blocked ? 'b' : '-'}- ` : `${padR('-', 5)} ${padR('-', 3)}-p `;
    s += `${fixed1(v.cpuTimeNs / 1e9, 9)}  ${v.hard} / ${v.soft}\n`;
  }
  return s;
}

const vcpuSet = xlCommand({
  name: 'vcpu-set', synopsis: '[option] <Domain> <vCPUs>', summary: 'Set the number of active VCPUs allowed for the domain',
  options: '-i, --ignore-host  Don\'t limit the vCPU based on the host CPU count',
  spec: { short: 'i', long: { 'ignore-host': 'i' }, required: 2 },
  async run(p) {
    return withHost(async (c) => {
      await c.call('vcpu-set', { domain: p.operands[0]!, count: p.operands[1]!, ignoreHost: flag(p, 'i') });
      return 0;
    });
  },
});

const vcpuList = xlCommand({
  name: 'vcpu-list', synopsis: '[Domain, ...]', summary: 'List the VCPUs for all/some domains',
  options: '    --json          (tsxen) the rows as JSON',
  spec: { short: 'J', long: { json: 'J' } },
  async run(p) {
    return withHost(async (c) => {
      const rows = await c.call<VcpuListEntry[]>('vcpu-list', { domains: p.operands });
      if (flag(p, 'J')) json(rows);
      else out(formatVcpuList(rows));
      return 0;
    });
  },
});

const vcpuPin = xlCommand({
  name: 'vcpu-pin', synopsis: '[option] <Domain> <VCPU|all> <Hard affinity|-|all> <Soft affinity|-|all>',
  summary: 'Set which CPUs a VCPU can use', options: '-f, --force        undo an override pinning done by the kernel',
  spec: { short: 'f', long: { force: 'f' }, required: 3 },
  async run(p) {
    const [domain, vcpu, hard, soft] = p.operands as [string, string, string, string | undefined];
    return withHost(async (c) => {
      await c.call('vcpu-pin', { domain, vcpu, hard, soft, force: flag(p, 'f') });
      return 0;
    });
  },
});

export interface CreditParams {
  readonly tsliceMs: number;
  readonly ratelimitUs: number;
  readonly migrationDelayUs: number;
}

/** xl's "Cpupool NAME: ..." line (sched_credit_pool_output). */
export function formatPoolParams(pool: string, params: CreditParams | null): string {
  return params === null ? `Cpupool ${pool}: [sched params unavailable]\n`
    : `Cpupool ${pool}: tslice=${params.tsliceMs}ms ratelimit=${params.ratelimitUs}us migration-delay=${params.migrationDelayUs}us\n`;
}

/** xl sched-credit's domain table. */
export function formatSchedCredit(pool: string, params: CreditParams | null, rows: readonly SchedCreditEntry[], withPool: boolean): string {
  let s = withPool ? formatPoolParams(pool, params) : '';
  s += `${padL('Name', 33)} ${padR('ID', 4)} ${padR('Weight', 6)} ${padR('Cap', 4)}\n`;
  for (const d of rows) s += `${padL(d.name, 33)} ${padR(d.domid, 4)} ${padR(d.weight, 6)} ${padR(d.cap, 4)}\n`;
  return s;
}

const schedCredit = xlCommand({
  name: 'sched-credit', synopsis: '[-d <Domain> [-w[=WEIGHT]|-c[=CAP]]] [-s [-t TSLICE] [-r RATELIMIT]] [-p CPUPOOL]',
  summary: 'Get/set credit scheduler parameters',
  options: '-d DOMAIN, --domain=DOMAIN        Domain to modify\n-w WEIGHT, --weight=WEIGHT        Weight (int)\n'
    + '-c CAP, --cap=CAP                 Cap (int)\n-s         --schedparam           Query / modify scheduler parameters\n'
    + '-t TSLICE, --tslice_ms=TSLICE     Set the timeslice, in milliseconds\n'
    + '-r RLIMIT, --ratelimit_us=RLIMIT  Set the scheduling rate limit, in microseconds\n'
    + '-m DLY, --migration_delay_us=DLY Set the migration delay, in microseconds\n'
    + '-p CPUPOOL, --cpupool=CPUPOOL     Restrict output to CPUPOOL',
  spec: {
    short: 'd:w:c:p:t:r:m:s',
    long: { domain: 'd', weight: 'w', cap: 'c', schedparam: 's', tslice_ms: 't', ratelimit_us: 'r', migration_delay_us: 'm', cpupool: 'p' },
  },
  async run(p) {
    const dom = value(p, 'd'), pool = value(p, 'p');
    const w = value(p, 'w'), cap = value(p, 'c');
    const optS = flag(p, 's'), optT = flag(p, 't') || flag(p, 'r') || flag(p, 'm');
    if ((pool !== undefined || optS) && (dom !== undefined || w !== undefined || cap !== undefined)) {
      throw new CliExit(1, '', 'Specifying a cpupool or schedparam is not allowed with domain options.\n');
    }
    if (dom === undefined && (w !== undefined || cap !== undefined)) throw new CliExit(1, '', 'Must specify a domain.\n');
    if (!optS && optT) throw new CliExit(1, '', 'Must specify schedparam to set schedule parameter values.\n');
    if (pool !== undefined && pool !== 'Pool-0' && pool !== '0') throw new CliExit(1, '', `unknown cpupool '${pool}'\n`);
    return withHost(async (c) => {
      const num = (t: string | undefined): number | undefined => (t === undefined ? undefined : parseInt(t, 10) || 0);
      if (optS) {
        const r = await c.call<{ pool: string; params: CreditParams | null }>('sched-credit.params', optT ? {
          tsliceMs: num(value(p, 't')), ratelimitUs: num(value(p, 'r')), migrationDelayUs: num(value(p, 'm')),
        } : {});
        if (!optT) out(formatPoolParams(r.pool, r.params));
        return 0;
      }
      const r = await c.call<{ pool: string; params: CreditParams | null; domains: SchedCreditEntry[] } | null>('sched-credit', {
        domain: dom, weight: num(w), cap: num(cap),
      });
      if (r !== null) out(formatSchedCredit(r.pool, r.params, r.domains, dom === undefined));
      return 0;
    });
  },
});

export const CPU_MEM_COMMANDS: readonly Command[] = [
  memCommand('mem-max', 'Set the maximum amount reservation for a domain'),
  memCommand('mem-set', 'Set the current memory usage for a domain'),
  vcpuList, vcpuPin, vcpuSet, schedCredit,
];
