/**
 * Port I/O: IN/OUT with the protected-mode permission rules and HVM I/O exiting.
 *
 * Permission (SDM 18.2): in protected mode with CPL > IOPL, and always in VM86 mode, every
 * byte of the access must be allowed by the TSS I/O bitmap, else #GP(0). Real mode and
 * CPL <= IOPL may access any port.
 *
 * HVM: after the permission check, a port whose bit is set in ExecControls.ioBitmap exits
 * (IO) before the access, with EIP at the instruction. BARE and PV go to the PortBus.
 */
import type { Cpu } from './cpu.ts';
import { ExecMode, ExitReason } from './exit.ts';
import { raise, raiseExit } from './fault.ts';
import { ioBitmapAllows } from './task.ts';

export function checkIoPermission(cpu: Cpu, port: number, size: number): void {
  if ((cpu.cr0 & 1) === 0) return;
  const v86 = (cpu.flags & 0x20000) !== 0;
  if (!v86 && cpu.cpl <= ((cpu.flags >>> 12) & 3)) return;
  if (!ioBitmapAllows(cpu, port & 0xffff, size)) raise(cpu, 13, 0);
}

/** HVM I/O exiting: exit if any port of the access is intercepted. */
export function ioExit(cpu: Cpu, port: number, size: number, isIn: boolean, isString: boolean, isRep: boolean,
  value: number, len: number): void {
  if (cpu.controls.mode !== ExecMode.HVM) return;
  const bm = cpu.controls.ioBitmap;
  let hit = false;
  for (let p = port; p < port + size; p++) {
    const q = p & 0xffff;
    if ((bm[q >>> 3]! >>> (q & 7)) & 1) hit = true;
  }
  if (!hit) return;
  const x = cpu.exit;
  x.reset(ExitReason.IO);
  x.port = port & 0xffff;
  x.size = size;
  x.isIn = isIn;
  x.isString = isString;
  x.isRep = isRep;
  x.value = value;
  x.insnLength = len;
  x.nextEip = (cpu.eip + len) & cpu.ipMask;
  raiseExit(cpu, ExitReason.IO);
}

export function portIn(cpu: Cpu, port: number, size: 1 | 2 | 4): number {
  if (cpu.watch !== 0) watchPort(cpu, port & 0xffff, size);
  return cpu.ports.read(port & 0xffff, size);
}

export function portOut(cpu: Cpu, port: number, size: 1 | 2 | 4, v: number): void {
  if (cpu.watch !== 0) watchPort(cpu, port & 0xffff, size);
  cpu.ports.write(port & 0xffff, size, v);
}

/** I/O breakpoints (CR4.DE and DR7 R/W 10): a port access overlapping DRn's range. */
function watchPort(cpu: Cpu, port: number, size: number): void {
  if ((cpu.cr4 & 8) === 0) return;
  const dr7 = cpu.dr[7]!;
  for (let n = 0; n < 4; n++) {
    if ((cpu.watch & (1 << n)) === 0 || ((dr7 >>> (16 + n * 4)) & 3) !== 2) continue;
    const len = [1, 2, 8, 4][(dr7 >>> (18 + n * 4)) & 3]!;
    const start = (cpu.dr[n]! & 0xffff & -len) >>> 0;
    if (port <= start + len - 1 && port + size - 1 >= start) cpu.dbHits |= 1 << n;
  }
}

/** IN AL/AX/EAX from `port` (after checks). */
export function doIn(cpu: Cpu, port: number, size: number, len: number): void {
  checkIoPermission(cpu, port, size);
  ioExit(cpu, port, size, true, false, false, 0, len);
  const v = portIn(cpu, port, size as 1 | 2 | 4);
  if (size === 1) cpu.regs8[0] = v;
  else if (size === 2) cpu.regs16[0] = v;
  else cpu.regs[0] = v;
}

export function doOut(cpu: Cpu, port: number, size: number, len: number): void {
  checkIoPermission(cpu, port, size);
  const v = size === 1 ? cpu.regs8[0]! : size === 2 ? cpu.regs16[0]! : cpu.regs[0]!;
  ioExit(cpu, port, size, false, false, false, v, len);
  portOut(cpu, port, size as 1 | 2 | 4, v);
}
