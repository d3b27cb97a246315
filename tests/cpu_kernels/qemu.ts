/**
 * Runs a bare-metal kernel on qemu-system-i386, the reference the tsxen runs are compared
 * with. QEMU loads the ELF as a Multiboot v1 kernel through SeaBIOS; COM1 goes to stdout;
 * the isa-debug-exit device on port 0xf4 makes QEMU exit with (value << 1) | 1, and a
 * triple fault with -no-reboot makes it exit 0.
 */
import { spawn, spawnSync } from 'node:child_process';
import { MEMORY_MIB } from './kernels.ts';

export interface RunResult {
  /** COM1 output, CR stripped. */
  readonly output: string;
  /** Process exit status (null when killed). */
  readonly status: number | null;
  /** The value the guest wrote to port 0xf4, or null if it did not exit that way. */
  readonly exitValue: number | null;
  /** True when the machine shut down (triple fault) rather than exiting through 0xf4. */
  readonly shutdown: boolean;
  readonly timedOut: boolean;
  /** The runner's own diagnostics. */
  readonly stderr: string;
}

/** The CPU model QEMU emulates for these runs: P6-class with PAE, NX, SYSENTER, FXSR. */
export const QEMU_CPU = 'pentium3,+pae,+nx,+sep,+fxsr,+pge,+pse';

let qemuChecked: string | null | undefined;
/** null when qemu-system-i386 is usable, else why not (tests skip with this reason). */
export function qemuUnavailable(): string | null {
  if (qemuChecked !== undefined) return qemuChecked;
  const r = spawnSync('qemu-system-i386', ['--version'], { encoding: 'utf8' });
  qemuChecked = r.status === 0 ? null : 'qemu-system-i386 is not installed (apt-get install qemu-system-x86 seabios)';
  return qemuChecked;
}

export function qemuArgs(elf: string, cmdline = ''): string[] {
  return [
    '-kernel', elf, '-append', cmdline,
    '-cpu', QEMU_CPU, '-m', String(MEMORY_MIB),
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
    '-serial', 'stdio', '-display', 'none', '-monitor', 'none', '-net', 'none', '-no-reboot',
  ];
}

export function runQemu(elf: string, cmdline = '', timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-system-i386', qemuArgs(elf, cmdline), { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      const output = Buffer.concat(out).toString('latin1').replace(/\r/g, '');
      const stderr = Buffer.concat(err).toString('utf8');
      if (status !== 0 && status !== null && (status & 1) === 0 && stderr) {
        reject(new Error(`qemu-system-i386 failed (status ${status}): ${stderr.trim()}`));
        return;
      }
      const exitValue = status !== null && (status & 1) === 1 ? status >> 1 : null;
      resolve({ output, status, exitValue, shutdown: status === 0, timedOut, stderr });
    });
  });
}
