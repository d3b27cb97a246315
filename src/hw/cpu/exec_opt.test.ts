/**
 * The interpreter's hot function must be optimized by TurboFan (CPU-PERF rule 7): V8 never
 * optimizes a function whose bytecode exceeds 60 KB, and an unoptimized interpreter loop is
 * ~15x slower. A child process (with --allow-natives-syntax) runs a guest loop long enough
 * to tier up and reports V8's optimization status of execBlock and the run loop, so an edit
 * that pushes them past the limit (or makes them deoptimize for good) fails here.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const SCRIPT = `
import { MachineMemory } from '${ROOT}src/hw/memory/machine_memory.ts';
import { VirtualClock } from '${ROOT}src/hw/clock.ts';
import { Cpu } from '${ROOT}src/hw/cpu/cpu.ts';
import { setFlatProtectedMode } from '${ROOT}src/hw/cpu/flat.ts';
import { execBlock } from '${ROOT}src/hw/cpu/exec.ts';
const status = new Function('f', 'return %GetOptimizationStatus(f)');
const mem = new MachineMemory(4 << 20);
const clock = new VirtualClock();
const cpu = new Cpu({ memory: mem, clock });
clock.attach(cpu);
setFlatProtectedMode(cpu);
// a loop with ALU, memory, stack, string and branch instructions
const code = [
  0xbc, 0x00, 0x80, 0x00, 0x00,       // mov esp, 0x8000
  0xb9, 0x00, 0x00, 0x00, 0x00,       // l0: mov ecx, 0
  0x01, 0xc8,                          // l: add eax, ecx
  0x89, 0x04, 0x8d, 0x00, 0x20, 0x00, 0x00, // mov [ecx*4+0x2000], eax
  0x8b, 0x1c, 0x8d, 0x00, 0x20, 0x00, 0x00, // mov ebx, [ecx*4+0x2000]
  0x50, 0x5a,                          // push eax; pop edx
  0xd1, 0xe3,                          // shl ebx, 1
  0x41, 0x81, 0xf9, 0x00, 0x01, 0x00, 0x00, // inc ecx; cmp ecx, 256
  0x75, 0xe5,                          // jne l
  0xeb, 0xdf,                          // jmp l0
];
mem.u8.set(code, 0x1000);
mem.notifyWritten(0x1000, code.length);
cpu.eip = 0x1000;
for (let k = 0; k < 40; k++) cpu.run(500000);
console.log(JSON.stringify({ execBlock: status(execBlock), instructions: cpu.instructions }));
`;

describe('V8 optimizes the interpreter', () => {
  it('execBlock is TurboFan-optimized after warm-up', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsxen-opt-'));
    const file = join(dir, 'opt.mts');
    writeFileSync(file, SCRIPT);
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx/esm', file],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    rmSync(dir, { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { execBlock: number; instructions: number };
    expect(out.instructions).toBeGreaterThan(10_000_000);
    // V8 11.x OptimizationStatus: bit 4 = optimized, bit 6 = TurboFan
    expect(out.execBlock & (1 << 4), `status 0x${out.execBlock.toString(16)}`).not.toBe(0);
    expect(out.execBlock & (1 << 6), `status 0x${out.execBlock.toString(16)}`).not.toBe(0);
  }, 180_000);
});
