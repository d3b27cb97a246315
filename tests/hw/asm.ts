/**
 * Assemble 32/16-bit x86 snippets for CPU tests with the machine's GNU assembler (the guest
 * toolchain every tsxen checkout has). Results are cached per source text in a temp dir so
 * a test file pays for `as` once per distinct snippet.
 *
 *   asm('mov eax, 5; add eax, ebx; hlt')            // Intel syntax, 32-bit code, at 0
 *   asm('...', { bits: 16, org: 0x7c00 })             // 16-bit code; org sets the link address
 *   asm('movl $5, %eax', { att: true })
 *
 * Statements may be separated by ';' or newlines. Labels and data directives work.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AsmOptions {
  bits?: 16 | 32;
  /** Link address of the first byte (jumps and labels are relative to it). */
  org?: number;
  att?: boolean;
}

const DIR = join(tmpdir(), 'tsxen-test-asm');

export function asm(src: string, opts: AsmOptions = {}): Uint8Array {
  const bits = opts.bits ?? 32;
  const org = opts.org ?? 0;
  const body = src.split(/;|\n/).map((s) => s.trim()).filter((s) => s.length > 0).join('\n');
  const text = `${opts.att ? '' : '.intel_syntax noprefix\n'}.code${bits}\n.text\n${body}\n`;
  const key = createHash('sha1').update(`${org}\0${text}`).digest('hex').slice(0, 20);
  mkdirSync(DIR, { recursive: true });
  const bin = join(DIR, `${key}.bin`);
  if (!existsSync(bin)) {
    // per-process intermediates, renamed into place: parallel test workers never read a
    // half-written cache entry; only the .bin stays
    const tmp = join(DIR, `${key}.${process.pid}`);
    const s = `${tmp}.s`, o = `${tmp}.o`, e = `${tmp}.elf`, b = `${tmp}.bin`;
    writeFileSync(s, text);
    try {
      execFileSync('as', ['--32', '-o', o, s], { stdio: ['ignore', 'ignore', 'pipe'] });
      execFileSync('ld', ['-m', 'elf_i386', '-Ttext', `0x${org.toString(16)}`, '-e', '0', '--no-warn-rwx-segments', '-o', e, o],
        { stdio: ['ignore', 'ignore', 'pipe'] });
      execFileSync('objcopy', ['-O', 'binary', '-j', '.text', e, b], { stdio: ['ignore', 'ignore', 'pipe'] });
      renameSync(b, bin);
    } catch (err) {
      const msg = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
      throw new Error(`assembling failed:\n${text}\n${msg}`);
    } finally {
      for (const f of [s, o, e, b]) rmSync(f, { force: true });
    }
  }
  return new Uint8Array(readFileSync(bin));
}
