/**
 * The self-description every PV test kernel carries (guests/tests/pv/lib/pvtest.h,
 * PVTEST(...)): an ELF note owned by "tsxen.pvtest", type 1, whose text is key=value
 * lines. This module reads it, so the refxen runner, the result collector and the
 * tsxen-side comparison agree on one format.
 *
 *   name=<name>        kernel name (build/pv-<name>.elf)
 *   expect=SUCCESS     the verdict a correct Xen produces; CRASH = Xen crashes the domain
 *   hostile=0|1        whether the kernel misbehaves on purpose
 *   cfg=<a;b>          extra xl.cfg lines (';'-separated), e.g. vcpus=2
 *   summary=<text>     one line saying what is tested
 */
import { readFileSync } from 'node:fs';
import { Elf32 } from '../../src/hw/loader/elf.ts';

export const PVTEST_NOTE_OWNER = 'tsxen.pvtest';
export const PVTEST_NOTE_TYPE = 1;

export type PvTestExpect = 'SUCCESS' | 'CRASH';

export interface PvTestInfo {
  readonly name: string;
  readonly expect: PvTestExpect;
  readonly hostile: boolean;
  readonly cfg: readonly string[];
  readonly summary: string;
}

export class PvTestNoteError extends Error {
  override name = 'PvTestNoteError';
}

/** Parses the note text; throws naming the missing or bad key. */
export function parsePvTestNote(text: string): PvTestInfo {
  const kv = new Map<string, string>();
  for (const line of text.replace(/\0+$/, '').split('\n')) {
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new PvTestNoteError(`pvtest note line without key=value: ${JSON.stringify(line)}`);
    kv.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const get = (k: string): string => {
    const v = kv.get(k);
    if (v === undefined) throw new PvTestNoteError(`pvtest note lacks ${k}=`);
    return v;
  };
  const expect = get('expect');
  if (expect !== 'SUCCESS' && expect !== 'CRASH') throw new PvTestNoteError(`pvtest note expect=${expect}`);
  const hostile = get('hostile');
  if (hostile !== '0' && hostile !== '1') throw new PvTestNoteError(`pvtest note hostile=${hostile}`);
  const name = get('name');
  if (!/^[a-z0-9_]+$/.test(name)) throw new PvTestNoteError(`pvtest note name=${name} is not [a-z0-9_]+`);
  const cfg = get('cfg').split(';').map((s) => s.trim()).filter((s) => s.length > 0);
  return { name, expect, hostile: hostile === '1', cfg, summary: get('summary') };
}

/** The pvtest note of a kernel image, or undefined if it has none. */
export function readPvTestInfo(image: Uint8Array): PvTestInfo | undefined {
  const elf = new Elf32(image);
  const note = elf.notes().find((n) => n.name === PVTEST_NOTE_OWNER && n.type === PVTEST_NOTE_TYPE);
  if (!note) return undefined;
  return parsePvTestNote(new TextDecoder().decode(note.desc));
}

export function readPvTestInfoFile(path: string): PvTestInfo | undefined {
  return readPvTestInfo(readFileSync(path));
}
