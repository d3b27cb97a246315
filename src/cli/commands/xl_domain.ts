/**
 * xl's domain commands: list, destroy, shutdown, reboot, pause, unpause, rename, domid,
 * domname, uptime — clients of the host daemon, with xl's options, tables, messages and
 * exit statuses (tools/xl/xl_vmcontrol.c, xl_info.c, xl_misc.c).
 */
import type { Command } from '../command.ts';
import { flag, xlCommand } from '../xl_command.ts';
import { withHost } from '../host_client.ts';
import { CliExit } from '../xl_opts.ts';
import { err, fixed1, json, out, padL, padR, uptimeString } from '../output.ts';
import type { DomainListEntry } from '../../dom0/toolstack/toolstack_ops.ts';

/** xl list's table (list_domains). */
export function formatList(rows: readonly DomainListEntry[], verbose: boolean): string {
  let s = 'Name                                        ID   Mem VCPUs\tState\tTime(s)';
  if (verbose) s += '   UUID                            Reason-Code\tSecurity Label';
  s += '\n';
  for (const d of rows) {
    s += `${padL(d.name, 40)} ${padR(d.domid, 5)} ${padR(d.memMiB, 5)} ${padR(d.vcpus, 5)}     ${d.state}  ${fixed1(d.cpuTimeNs / 1e9, 8)}`;
    if (verbose) s += ` ${d.uuid} ${padR(d.shutdown ? (d.shutdownReason ?? 0).toString(16) : '-', 8)} ${padR('-', 16)}`;
    s += '\n';
  }
  return s;
}

const list = xlCommand({
  name: 'list', synopsis: '[options] [Domain]', summary: 'List information about all/some domains',
  options: '-l, --long              Output all VM details\n-v, --verbose           Prints out UUIDs and security context\n'
    + '-Z, --context           Prints out security context\n-c, --cpupool           Prints the cpupool the domain is in\n'
    + '-n, --numa              Prints out NUMA node affinity\n    --json              (tsxen) the rows as JSON',
  spec: { short: 'lvZcnJ', long: { long: 'l', verbose: 'v', context: 'Z', cpupool: 'c', numa: 'n', json: 'J' } },
  async run(p, cmd) {
    if (p.operands.length > 1) throw new CliExit(1, cmd.usage + '\n');
    const domain = p.operands[0];
    return withHost(async (c) => {
      if (flag(p, 'l')) {
        // xl prints libxl's JSON; --json (tsxen) adds each domain's xl.cfg as text (xlcfg).
        const rows = await c.call<Array<{ domid: number; config: unknown; xlcfg: string }>>('list.long', domain !== undefined ? { domain } : {});
        if (flag(p, 'J')) json(rows);
        else out(`${JSON.stringify(rows.map((r) => ({ domid: r.domid, config: r.config })), null, 4)}\n`);
        return 0;
      }
      const rows = await c.call<DomainListEntry[]>('list', domain !== undefined ? { domain } : {});
      if (flag(p, 'J')) json(rows);
      else {
        let s = formatList(rows, flag(p, 'v'));
        if (flag(p, 'c')) s = s.split('\n').map((l, i) => (l === '' ? l : `${l}${i === 0 ? '         Cpupool' : padR('Pool-0', 16)}`)).join('\n');
        out(s);
      }
      return 0;
    });
  },
});

const destroy = xlCommand({
  name: 'destroy', synopsis: '[options] <Domain>', summary: 'Terminate a domain immediately',
  options: '-f                      Permit destroying domain 0, which will only succeed\n'
    + '                        when run from disaggregated toolstack domain with a\n'
    + '                        hardware domain distinct from domain 0.',
  spec: { short: 'f', required: 1 },
  async run(p) {
    return withHost(async (c) => {
      await c.call('destroy', { domain: p.operands[0]!, force: flag(p, 'f') });
      return 0;
    });
  },
});

function shutdownLike(reboot: boolean): Command {
  const what = reboot ? 'reboot' : 'shutdown';
  return xlCommand({
    name: what, synopsis: '[options] <-a|Domain>', summary: `Issue a ${what} signal to a domain`,
    options: '-a, --all               Shutdown all guest domains.\n-h                      Print this help.\n'
      + `-F                      Fallback to ACPI ${reboot ? 'reset' : 'power'} event for HVM guests with\n`
      + '                        no PV drivers.\n'
      + `-w, --wait              Wait for guest(s) to ${what}.\n`,
    spec: { short: 'awF', long: { all: 'a', wait: 'w' } },
    async run(p) {
      const all = flag(p, 'a');
      if (p.operands.length === 0 && !all) throw new CliExit(1, '', 'You must specify -a or a domain id.\n\n');
      return withHost(async (c) => {
        const s = c.stream('shutdown', { domain: p.operands[0], all, wait: flag(p, 'w'), reboot }, (e) => {
          const ev = e as { stderr?: string };
          if (ev.stderr !== undefined) err(ev.stderr);
        });
        await s.done;
        return 0;
      });
    },
  });
}

function simple(name: string, summary: string, method: string): Command {
  return xlCommand({
    name, synopsis: '<Domain>', summary, spec: { short: '', required: 1 },
    async run(p) {
      return withHost(async (c) => {
        await c.call(method, { domain: p.operands[0]! });
        return 0;
      });
    },
  });
}

const rename = xlCommand({
  name: 'rename', synopsis: '<Domain> <NewDomainName>', summary: 'Rename a domain', spec: { short: '', required: 2 },
  async run(p) {
    return withHost(async (c) => {
      await c.call('rename', { domain: p.operands[0]!, name: p.operands[1]! });
      return 0;
    });
  },
});

const domid = xlCommand({
  name: 'domid', synopsis: '<DomainName>', summary: 'Convert a domain name to domain id', spec: { short: '', required: 1 },
  async run(p) {
    return withHost(async (c) => {
      out(`${await c.call<number>('domid', { name: p.operands[0]! })}\n`);
      return 0;
    });
  },
});

const domname = xlCommand({
  name: 'domname', synopsis: '<DomainId>', summary: 'Convert a domain id to domain name', spec: { short: '', required: 1 },
  async run(p) {
    return withHost(async (c) => {
      out(`${await c.call<string>('domname', { domid: p.operands[0]! })}\n`);
      return 0;
    });
  },
});

const uptime = xlCommand({
  name: 'uptime', synopsis: '[-s] [Domain]', summary: 'Print uptime for all/some domains', spec: { short: 's' },
  async run(p) {
    const short = flag(p, 's');
    return withHost(async (c) => {
      const rows = await c.call<DomainListEntry[]>('uptime', { domains: p.operands });
      const now = new Date();
      const two = (n: number): string => String(n).padStart(2, '0');
      const clock = `${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`;
      let s = short ? '' : `${padL('Name', 33)} ${padR('ID', 4)} Uptime\n`;
      for (const d of rows) {
        s += short ? ` ${clock} up ${uptimeString(d.uptimeS, true)}, ${d.name} (${d.domid})\n`
          : `${padL(d.name, 33)} ${padR(d.domid, 4)} ${uptimeString(d.uptimeS, false)}\n`;
      }
      out(s);
      return 0;
    });
  },
});

export const DOMAIN_COMMANDS: readonly Command[] = [
  list, destroy, shutdownLike(false), shutdownLike(true), simple('pause', 'Pause execution of a domain', 'pause'),
  simple('unpause', 'Unpause a paused domain', 'unpause'), rename, domid, domname, uptime,
];
