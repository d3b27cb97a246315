import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import type { SerialInputQueue } from '../../host/bare/run_bare.ts';

/** run_bare.ts's STATUS_BAD_IMAGE (that module, the whole machine, loads only to run). */
const STATUS_BAD_IMAGE = 2;

const USAGE = `usage: tsxen bare --kernel <multiboot.elf> [--cmdline <text>] [--memory <MiB>]
                  [--max-instructions <n>] [--timeout <seconds>] [--clock host|virtual]

Runs a Multiboot (v1) kernel on the emulated bare PC (one IA-32 CPU, no hypervisor):
COM1 (0x3f8) goes to stdout and stdin is typed into it. The exit status follows QEMU with
-device isa-debug-exit,iobase=0xf4 and -no-reboot, so scripts can treat both alike:
  (v << 1) | 1  the guest wrote v to port 0xf4
  0             the CPU triple-faulted (shutdown) or the guest asked for a reset
  2             the kernel could not be loaded (the reason is printed)
  4             tsxen stopped the guest: instruction limit, timeout, or halted with
                interrupts disabled (the reason is printed)

Options:
  --kernel <path>          the kernel image (ELF32 or a.out-kludge Multiboot image)
  --cmdline <text>         the Multiboot command line (default empty)
  --memory <MiB>           RAM size (default 128)
  --max-instructions <n>   stop after n retired instructions
  --timeout <seconds>      stop after this much host time
  --clock host|virtual     guest time from the host clock (default) or from retired
                           instructions (1 ns each; deterministic)`;

function parse(args: readonly string[]): Map<string, string> {
  const known = new Set(['--kernel', '--cmdline', '--memory', '--max-instructions', '--timeout', '--clock']);
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(0, eq) : a;
    if (!known.has(key)) throw new UsageError(`unknown option '${a}'; see 'tsxen bare --help'`, STATUS_BAD_IMAGE);
    let val: string | undefined;
    if (eq > 0) val = a.slice(eq + 1);
    else val = args[++i];
    if (val === undefined) throw new UsageError(`option ${key} needs a value`, STATUS_BAD_IMAGE);
    out.set(key, val);
  }
  return out;
}

function num(opts: Map<string, string>, key: string, min: number, max: number): number | undefined {
  const v = opts.get(key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${key} ${JSON.stringify(v)} is not a number in ${min}..${max}`, STATUS_BAD_IMAGE);
  }
  return n;
}

export const bareCommand: Command = {
  name: 'bare',
  summary: 'run a Multiboot kernel on the bare emulated PC (no hypervisor)',
  usage: USAGE,
  async run(args) {
    const opts = parse(args);
    const kernel = opts.get('--kernel');
    if (kernel === undefined) throw new UsageError('--kernel <multiboot.elf> is required', STATUS_BAD_IMAGE);
    const memoryMiB = num(opts, '--memory', 2, 2047);
    if (memoryMiB !== undefined && !Number.isInteger(memoryMiB)) {
      throw new UsageError(`--memory ${memoryMiB} is not a whole number of MiB`, STATUS_BAD_IMAGE);
    }
    const maxInstructions = num(opts, '--max-instructions', 1, Number.MAX_SAFE_INTEGER);
    const timeout = num(opts, '--timeout', 0, 1e9);
    const clock = opts.get('--clock') ?? 'host';
    if (clock !== 'host' && clock !== 'virtual') {
      throw new UsageError(`--clock ${JSON.stringify(clock)} is not host or virtual`, STATUS_BAD_IMAGE);
    }
    const { BootError, runBare, SerialInputQueue: InputQueue, STATUS_BAD_IMAGE: bad } = await import('../../host/bare/run_bare.ts');
    if (bad !== STATUS_BAD_IMAGE) throw new Error('STATUS_BAD_IMAGE changed in run_bare.ts');
    const input: SerialInputQueue = new InputQueue();
    const onData = (b: Buffer): void => input.push(new Uint8Array(b));
    process.stdin.on('data', onData);
    try {
      const r = await runBare({
        serialInput: input,
        kernel,
        cmdline: opts.get('--cmdline') ?? '',
        memoryMiB,
        maxInstructions,
        timeoutMs: timeout !== undefined ? timeout * 1000 : undefined,
        clock,
        collectSerial: false,
        onSerial: (t) => void process.stdout.write(Buffer.from(t, 'latin1')),
      });
      if (r.reason === 'limit') process.stderr.write(`tsxen bare: stopped after ${r.instructions} instructions (--max-instructions)\n`);
      else if (r.reason === 'timeout') process.stderr.write(`tsxen bare: stopped after ${(r.elapsedMs / 1000).toFixed(1)} s (--timeout)\n`);
      else if (r.reason === 'halted') process.stderr.write('tsxen bare: the CPU halted with nothing left to wake it\n');
      else if (r.reason === 'shutdown') process.stderr.write('tsxen bare: triple fault: the CPU shut down\n');
      return r.exitStatus;
    } catch (e) {
      if (e instanceof BootError) throw new UsageError(e.message, STATUS_BAD_IMAGE);
      throw e;
    } finally {
      process.stdin.off('data', onData);
      process.stdin.pause();
    }
  },
};
