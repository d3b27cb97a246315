/**
 * The PV test kernels (guests/tests/pv) as images: every kernel builds, carries the Xen
 * ELF notes a 32-bit PAE PV kernel needs (parsed with src/hw/loader/elf.ts, the reader the
 * tsxen domain builder uses), enters inside its image, names a page-aligned hypercall page
 * inside a loaded segment, and describes itself with a valid pvtest note. The recorded
 * real-Xen verdicts (refxen-results.json) cover every kernel and agree with the expected
 * verdicts, and the recorded console of every SUCCESS kernel ends in its result line.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Elf32, PT_LOAD } from '../../src/hw/loader/elf.ts';
import { parsePvTestNote, PvTestNoteError, readPvTestInfo } from './pvtest_manifest.ts';
import type { RefxenResults } from './refxen_results.ts';
import {
  XEN_ELFNOTE_ENTRY,
  XEN_ELFNOTE_GUEST_OS,
  XEN_ELFNOTE_HYPERCALL_PAGE,
  XEN_ELFNOTE_LOADER,
  XEN_ELFNOTE_PADDR_OFFSET,
  XEN_ELFNOTE_PAE_MODE,
  XEN_ELFNOTE_VIRT_BASE,
  XEN_ELFNOTE_XEN_VERSION,
} from '../../src/abi/elfnote.ts';

const GUESTS = fileURLToPath(new URL('../../guests/', import.meta.url));
const RESULTS = fileURLToPath(new URL('./refxen-results.json', import.meta.url));


function kernels(): string[] {
  return readdirSync(`${GUESTS}build`).filter((f) => /^pv-.+\.elf$/.test(f)).sort();
}

const sources = readdirSync(`${GUESTS}tests/pv`).filter((f) => f.endsWith('.c'));

describe('PV test kernels', () => {
  beforeAll(() => {
    execFileSync('make', ['-s', '-C', GUESTS, 'pv-tests'], { stdio: 'inherit' });
  });

  it('one kernel per source file, at least 40, at least half of them hostile', () => {
    const built = kernels();
    expect(built.length).toBe(sources.length);
    expect(built.length).toBeGreaterThanOrEqual(40);
    const hostile = built.filter((f) => readPvTestInfo(readFileSync(`${GUESTS}build/${f}`))?.hostile).length;
    expect(hostile * 2).toBeGreaterThanOrEqual(built.length);
  });

  it('every kernel carries the Xen notes of a PAE PV kernel, consistent with its ELF', () => {
    for (const f of kernels()) {
      const elf = new Elf32(readFileSync(`${GUESTS}build/${f}`));
      const notes = new Map<number, Uint8Array>();
      for (const n of elf.notes()) if (n.name === 'Xen') notes.set(n.type, n.desc);
      const str = (t: number) => new TextDecoder().decode(notes.get(t)).replace(/\0+$/, '');
      const num = (t: number) => {
        const d = notes.get(t);
        expect(d?.length, `${f}: note ${t}`).toBe(4);
        return new DataView(d!.buffer, d!.byteOffset, 4).getUint32(0, true); // checked length 4 above
      };
      expect(str(XEN_ELFNOTE_XEN_VERSION), f).toBe('xen-3.0');
      expect(str(XEN_ELFNOTE_LOADER), f).toBe('generic');
      expect(str(XEN_ELFNOTE_PAE_MODE), f).toBe('yes');
      expect(str(XEN_ELFNOTE_GUEST_OS).length, f).toBeGreaterThan(0);
      expect(num(XEN_ELFNOTE_VIRT_BASE), f).toBe(0);
      expect(num(XEN_ELFNOTE_PADDR_OFFSET), f).toBe(0);
      const load = elf.segments.filter((s) => s.type === PT_LOAD);
      const inImage = (a: number) => load.some((s) => a >= s.vaddr && a < s.vaddr + s.memSize);
      const entry = num(XEN_ELFNOTE_ENTRY);
      expect(entry, f).toBe(elf.entry);
      expect(inImage(entry), `${f}: entry inside the image`).toBe(true);
      const hpage = num(XEN_ELFNOTE_HYPERCALL_PAGE);
      expect(hpage % 4096, `${f}: hypercall page aligned`).toBe(0);
      expect(inImage(hpage) && inImage(hpage + 4095), `${f}: hypercall page inside the image`).toBe(true);
      // Pre-filled with ret (0xC3), so an unfilled page is detectable.
      const seg = load.find((s) => hpage >= s.vaddr && hpage < s.vaddr + s.fileSize)!; // inImage checked
      expect(elf.segmentData(seg)[hpage - seg.vaddr], f).toBe(0xc3);
      expect(elf.symbol('hypercall_page'), f).toBe(hpage);
    }
  });

  it('every kernel describes itself (name matches the file, known verdict, cfg lines)', () => {
    for (const f of kernels()) {
      const info = readPvTestInfo(readFileSync(`${GUESTS}build/${f}`));
      expect(info, f).toBeDefined();
      expect(`pv-${info!.name}.elf`).toBe(f); // defined, checked above
      expect(info!.summary.length).toBeGreaterThan(0);
      for (const line of info!.cfg) expect(line).toMatch(/^[a-z_]+\s*=/);
    }
  });

  it('the pvtest note parser rejects malformed notes with a reason', () => {
    const ok = 'name=x\nexpect=SUCCESS\nhostile=0\ncfg=vcpus=2;memory=32\nsummary=s\n';
    expect(parsePvTestNote(ok).cfg).toEqual(['vcpus=2', 'memory=32']);
    expect(() => parsePvTestNote(ok.replace('expect=SUCCESS', 'expect=MAYBE'))).toThrow(/expect=MAYBE/);
    expect(() => parsePvTestNote(ok.replace('hostile=0', 'hostile=yes'))).toThrow(/hostile/);
    expect(() => parsePvTestNote(ok.replace('name=x\n', ''))).toThrow(/lacks name/);
    expect(() => parsePvTestNote(ok.replace('name=x', 'name=../etc'))).toThrow(PvTestNoteError);
    expect(() => parsePvTestNote('garbage')).toThrow(/key=value/);
  });

  it('refxen-results.json has a real-Xen verdict for every kernel, matching its expectation', () => {
    const results = JSON.parse(readFileSync(RESULTS, 'utf8')) as RefxenResults;
    expect(results.xen.version).toMatch(/^4\.17/);
    for (const f of kernels()) {
      const info = readPvTestInfo(readFileSync(`${GUESTS}build/${f}`))!; // every kernel has one (above)
      const r = results.kernels[info.name];
      expect(r, `${info.name} recorded`).toBeDefined();
      expect(r!.expect).toBe(info.expect); // defined, checked above
      expect(r!.refxen.verdict, info.name).toBe(info.expect);
      expect(r!.refxen.matchesExpectation).toBe(true);
      if (info.expect === 'SUCCESS') expect(r!.refxen.console.at(-1)).toBe('Test result: SUCCESS');
      else expect(r!.refxen.crash).toMatch(/crash/i);
    }
  });
});
