// The v86 reference for bench/cpu_mips.ts, in its own process: boots a Multiboot image on
// v86 (SeaBIOS first, as v86 always does), copies COM1 to stdout and exits after the guest
// prints "BENCH DONE" (v86's release build turns a write to port 0xf4 into `throw "HALT"`).
// usage: node cpu_v86_child.mjs <dir holding node_modules/v86> <kernel.elf> <cmdline>
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dir, elf, cmdline] = process.argv.slice(2);
const require = createRequire(join(dir, 'noop.js'));
const pkg = dirname(require.resolve('v86/package.json'));
const { V86 } = await import(pathToFileURL(join(pkg, 'build/libv86.mjs')).href);
const file = (f) => {
  const b = readFileSync(f);
  return { buffer: b.buffer.slice(b.byteOffset, b.byteOffset + b.length) };
};

let emu = null;
const finish = (code) => {
  try { emu?.destroy(); } catch { /* already stopped */ }
  process.exit(code);
};
process.on('uncaughtException', (e) => finish(e === 'HALT' ? 0 : 3));
emu = new V86({
  wasm_path: join(pkg, 'build/v86.wasm'),
  memory_size: 64 << 20,
  bios: file(process.env.V86_BIOS ?? '/usr/share/seabios/bios.bin'),
  vga_bios: file(process.env.V86_VGABIOS ?? '/usr/share/seabios/vgabios-stdvga.bin'),
  multiboot: file(elf),
  cmdline,
  autostart: true,
  log_level: 0,
});
let line = '';
emu.add_listener('serial0-output-byte', (byte) => {
  const c = String.fromCharCode(byte);
  process.stdout.write(c);
  if (c !== '\n') {
    line += c;
    return;
  }
  if (line.includes('BENCH DONE')) setImmediate(() => finish(0));
  line = '';
});
setTimeout(() => finish(2), 600_000).unref();
