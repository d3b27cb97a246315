/**
 * minios without running it: the image carries the ELF notes a 32-bit PAE PV kernel with
 * suspend-cancel support needs; the scenario files parse; the console parser and the disk
 * pattern agree with what minios printed on the real Xen (refxen-results.json), i.e. the
 * TypeScript twin of the pattern reproduces the CRCs the C code computed there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Elf32, PT_LOAD } from '../../src/hw/loader/elf.ts';
import {
  XEN_ELFNOTE_ENTRY, XEN_ELFNOTE_GUEST_OS, XEN_ELFNOTE_HYPERCALL_PAGE, XEN_ELFNOTE_PAE_MODE,
  XEN_ELFNOTE_SUSPEND_CANCEL, XEN_ELFNOTE_VIRT_BASE, XEN_ELFNOTE_XEN_VERSION,
} from '../../src/abi/elfnote.ts';
import { crc32, diskPatternCrc, diskPatternSector, parseMiniosConsole, parseResultLine } from './console_log.ts';
import { extraOf, loadScenarios, parseScenario, ScenarioError } from './scenario.ts';
import { parseSerialLog, RESULTS_FILE, type RefxenResults } from './refxen/collect.ts';

const GUESTS = fileURLToPath(new URL('../../guests/', import.meta.url));

describe('minios image', () => {
  beforeAll(() => {
    execFileSync('make', ['-s', '-C', GUESTS, 'minios'], { stdio: 'inherit' });
  });

  it('carries the Xen notes of a PAE PV kernel that supports suspend cancel', () => {
    const elf = new Elf32(readFileSync(`${GUESTS}build/minios.elf`));
    const notes = new Map<number, Uint8Array>();
    for (const n of elf.notes()) if (n.name === 'Xen') notes.set(n.type, n.desc);
    const str = (t: number) => new TextDecoder().decode(notes.get(t)).replace(/\0+$/, '');
    const num = (t: number) => {
      const d = notes.get(t);
      expect(d?.length, `note ${t}`).toBe(4);
      return new DataView(d!.buffer, d!.byteOffset, 4).getUint32(0, true); // length checked above
    };
    expect(str(XEN_ELFNOTE_GUEST_OS)).toBe('tsxen-minios');
    expect(str(XEN_ELFNOTE_XEN_VERSION)).toBe('xen-3.0');
    expect(str(XEN_ELFNOTE_PAE_MODE)).toBe('yes');
    expect(num(XEN_ELFNOTE_VIRT_BASE)).toBe(0);
    expect(num(XEN_ELFNOTE_SUSPEND_CANCEL)).toBe(1);
    expect(num(XEN_ELFNOTE_ENTRY)).toBe(elf.entry);
    const hpage = num(XEN_ELFNOTE_HYPERCALL_PAGE);
    expect(hpage % 4096).toBe(0);
    expect(elf.symbol('hypercall_page')).toBe(hpage);
    const load = elf.segments.filter((s) => s.type === PT_LOAD);
    expect(Math.min(...load.map((s) => s.vaddr))).toBe(0x100000);
    // Per-vCPU stacks are aligned to their size (32 KiB): this_cpu() masks ESP.
    expect((elf.symbol('cpu_stacks') ?? 1) % 32768).toBe(0);
  });
});

describe('minios scenarios', () => {
  it('every scenario file parses, with an extra= command list', () => {
    const all = loadScenarios();
    expect(all.length).toBeGreaterThanOrEqual(12);
    for (const s of all) expect(extraOf(s.xl), s.name).not.toBe('');
  });

  it('directives are read exactly and typos are errors', () => {
    const s = parseScenario('x', [
      '# disk: 16M', "disk=['target=/tmp/x.img']", 'extra="cmd=\\"a; b\\""',
      '# after: WAIT resume => save-restore', '# after: x y => ping 10.0.2.15 3',
      '# check-disk: 0 256 5', '# expect: FAILURE', '# tsxen-only: no reason',
    ].join('\n'));
    expect(s.diskSize).toBe(16 * 1024 * 1024);
    expect(s.after.map((a) => [a.pattern.source, a.action, a.args])).toEqual([
      ['WAIT resume', 'save-restore', []], ['x y', 'ping', ['10.0.2.15', '3']],
    ]);
    expect(s.checkDisk).toEqual([{ start: 0, count: 256, seed: 5 }]);
    expect(s.expect).toBe('FAILURE');
    expect(s.only).toEqual({ where: 'tsxen', why: 'no reason' });
    expect(extraOf(s.xl)).toBe('cmd="a; b"');
    expect(() => parseScenario('x', '# after: a => fly')).toThrow(ScenarioError);
    expect(() => parseScenario('x', '# after: a => ping 1.2.3.4')).toThrow(/takes 2 arguments/);
    expect(() => parseScenario('x', '# dsik: 1M')).toThrow(/unknown directive/);
    expect(() => parseScenario('x', '# check-disk: 0 x 1')).toThrow(/bad count/);
  });
});

describe('minios console format', () => {
  it('splits result lines into status, command and key=value fields', () => {
    expect(parseResultLine('OK disk write start=0 count=1000 crc=f788a394 us=509963')).toMatchObject({
      status: 'OK', what: 'disk write', fields: { start: '0', count: '1000', crc: 'f788a394' },
    });
    expect(parseResultLine('OK xs read name = "01-boot"')?.what).toBe('xs read name');
    expect(parseResultLine('FAIL disk: no block device 0')?.what).toBe('disk');
    expect(parseResultLine('OK udp reply from 10.0.2.2:7 len=17 data="hello from minios"')?.fields.data)
      .toBe('hello from minios');
    expect(parseResultLine('PING reply from 10.0.2.2 seq=1')).toBeNull();
    const run = parseMiniosConsole('1795897294.5 SUMMARY commands=12 failed=0 skipped=0\r\n1795897294.5 Test result: SUCCESS\r\n');
    expect(run.verdict).toBe('SUCCESS');
    expect(run.summary).toMatchObject({ commands: '12', failed: '0' });
  });

  it('CRC-32 is zlib\'s and the disk pattern words are xorshift32 of the documented seed', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    const sec = new DataView(diskPatternSector(7, 0).buffer);
    // word 0 of sector 0, seed 7: xorshift32((7 ^ 0 ^ 0) | 1) = xorshift32(7)
    let x = 7;
    x = (x ^ (x << 13)) >>> 0; x = (x ^ (x >>> 17)) >>> 0; x = (x ^ (x << 5)) >>> 0;
    expect(sec.getUint32(0, true)).toBe(x);
  });

  it('parses a refxen serial log into per-scenario results', () => {
    const log = [
      '=== BEGIN 01-x (cfg: ...)', '  host: OK fine', '  con: 1.5 > echo hi', '  con: 1.5 OK mem nr_pages=8192',
      '  con: 1.6 Test result: SUCCESS', 'RESULT|01-x|Test result: SUCCESS|host=ok|total_s=3.50', '=== END 01-x',
    ].join('\n');
    const r = parseSerialLog(log, 'now').get('01-x');
    expect(r).toMatchObject({ verdict: 'SUCCESS', host: 'ok', hostChecks: ['OK fine'], totalSeconds: 3.5 });
    expect(r?.results).toEqual([{ status: 'OK', what: 'mem', line: 'OK mem nr_pages=8192' }]);
  });
});

describe('minios on the real Xen (recorded)', () => {
  const results: RefxenResults | null = existsSync(RESULTS_FILE)
    ? (JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as RefxenResults) // written by collect.ts
    : null;

  it('every scenario not marked tsxen-only ran on refxen with the expected verdict and host checks', () => {
    expect(results, `run tests/minios/refxen/run.sh and collect.ts to create ${RESULTS_FILE}`).not.toBeNull();
    for (const s of loadScenarios()) {
      if (s.only?.where === 'tsxen') continue;
      const r = results!.scenarios[s.name]; // non-null: asserted above
      expect(r, `${s.name} has no refxen result`).toBeDefined();
      expect(r!.verdict, `${s.name}`).toMatch(new RegExp(`^${s.expect}`));
      expect(r!.host, `${s.name}`).toBe('ok');
    }
  });

  it('the CRCs minios printed for disk writes on refxen are the documented pattern\'s', () => {
    let checked = 0;
    for (const r of Object.values(results?.scenarios ?? {})) {
      for (const x of r.results) {
        const f = parseResultLine(x.line)!.fields; // recorded lines are result lines
        if (x.what !== 'disk write' && x.what !== 'disk verify') continue;
        const seed = /disk (?:write|verify) \d+ \d+ (\d+)/.exec(r.console.find((l) => l.startsWith(`> ${x.what} ${f.start} ${f.count}`)) ?? '');
        if (!seed) continue;
        expect(f.crc, x.line).toBe(diskPatternCrc(Number(f.start), Number(f.count), Number(seed[1])).toString(16).padStart(8, '0'));
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(results ? 5 : 0);
  });
});
