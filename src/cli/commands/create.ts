import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { Host } from '../../host/host.ts';
import { applyXlOverrides, parseXlConfig, pvConfig, XlConfigError } from '../../dom0/toolstack/xl_config.ts';
import { BuildError } from '../../dom0/toolstack/xen_elf.ts';
import { XcError } from '../../dom0/libxc/xc.ts';
import type { GuestExit } from '../../dom0/toolstack/toolstack.ts';

const STATUS_CONFIG = 2;
const STATUS_STOPPED = 4;

const USAGE = `usage: tsxen create [-c] [-p] [--clock host|virtual] [--timeout <s>] [--dmesg]
                    <config-file> [KEY=VALUE ...]

Boots the hypervisor and dom0 in this process, creates one PV guest from an xl.cfg file
(KEY=VALUE arguments are extra config lines, applied last), runs it until it shuts down,
then exits. Supported keys: name, kernel, memory, maxmem, vcpus, maxvcpus, cmdline,
extra, root, on_poweroff/on_reboot/on_crash; others are ignored with a warning.
  tsxen create -c guest.cfg
  tsxen create -c /dev/null kernel=guests/build/pv-hello.elf memory=32

Options:
  -c                  attach the guest's console to stdout
  -p                  (accepted for xl compatibility; the guest is unpaused at once)
  --clock host|virtual  guest time from the host clock or from retired instructions
                      (1 ns each; deterministic; default)
  --timeout <s>       stop after this much host time
  --dmesg             print the hypervisor console (xl dmesg) to stderr as it happens

Exit status: 0 the guest powered off; 1 it crashed (or watchdog); 3 it rebooted;
  5 it suspended; 2 bad config or kernel; 4 stopped by tsxen (timeout, or nothing left
  to run).`;

export const createCommand: Command = {
  name: 'create',
  summary: 'create and run one PV guest from an xl.cfg (embedded hypervisor + dom0)',
  usage: USAGE,
  async run(args) {
    let attach = false, dmesg = false, clock: 'host' | 'virtual' = 'virtual';
    let timeoutS: number | undefined;
    const rest: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-c') attach = true;
      else if (a === '-p') continue;
      else if (a === '--dmesg') dmesg = true;
      else if (a === '--clock' || a === '--timeout') {
        const v = args[++i];
        if (v === undefined) throw new UsageError(`${a} needs a value`, STATUS_CONFIG);
        if (a === '--clock') {
          if (v !== 'host' && v !== 'virtual') throw new UsageError(`--clock ${v} is not host or virtual`, STATUS_CONFIG);
          clock = v;
        } else {
          timeoutS = Number(v);
          if (!(timeoutS > 0)) throw new UsageError(`--timeout ${v} is not a positive number`, STATUS_CONFIG);
        }
      } else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option '${a}'; see 'tsxen create --help'`, STATUS_CONFIG);
      else rest.push(a);
    }
    const [cfgPath, ...overrides] = rest;
    if (cfgPath === undefined) throw new UsageError('a config file is required (use /dev/null with KEY=VALUE arguments)', STATUS_CONFIG);
    let cfg;
    let kernel: Uint8Array;
    try {
      const raw = parseXlConfig(await readFile(cfgPath, 'utf8'), cfgPath);
      applyXlOverrides(raw, overrides);
      if (!raw.has('name') && typeof raw.get('kernel') === 'string') raw.set('name', basename(raw.get('kernel') as string).replace(/\.elf$/, ''));
      cfg = pvConfig(raw);
      kernel = new Uint8Array(await readFile(cfg.kernel));
    } catch (e) {
      if (e instanceof XlConfigError) throw new UsageError(e.message, STATUS_CONFIG);
      if ((e as NodeJS.ErrnoException).code !== undefined) throw new UsageError((e as Error).message, STATUS_CONFIG);
      throw e;
    }
    for (const k of cfg.ignored) process.stderr.write(`tsxen create: ignoring unsupported setting '${k}'\n`);
    const host = new Host({ clock, xenLog: dmesg ? (l) => void process.stderr.write(`${l}\n`) : undefined });
    let guest;
    try {
      guest = host.toolstack.createPv(cfg, kernel, {
        sink: attach ? (b) => void process.stdout.write(Buffer.from(b)) : null,
      });
    } catch (e) {
      if (e instanceof BuildError || e instanceof XcError) throw new UsageError(`cannot create ${cfg.name}: ${e.message}`, STATUS_CONFIG);
      throw e;
    }
    let exit: GuestExit | null = null;
    guest.onExit((e) => (exit = e));
    const end = await host.runUntil(() => exit !== null, { timeoutMs: timeoutS !== undefined ? timeoutS * 1000 : undefined });
    if (exit === null) {
      process.stderr.write(end === 'timeout' ? `tsxen create: stopped ${cfg.name} after ${timeoutS} s (--timeout)\n`
        : `tsxen create: ${cfg.name} is blocked with nothing left to wake it\n`);
      host.toolstack.destroy(guest.domid);
      return STATUS_STOPPED;
    }
    return statusOf(exit);
  },
};

function statusOf(e: GuestExit): number {
  switch (e.reason) {
    case 0: return 0; // poweroff
    case 1: return 3; // reboot
    case 2: return 5; // suspend
    case 3: case 4: return 1; // crash, watchdog
    default: return STATUS_STOPPED;
  }
}
