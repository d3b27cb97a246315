import { describe, expect, it } from 'vitest';
import { formatCpuSet, parseCpuRange, parseMac, parseMemSizeKb, parseVdev } from './xl_values.ts';

describe('xl value grammars', () => {
  it('memory sizes as xl parse_mem_size_kb (default MiB)', () => {
    expect(parseMemSizeKb('512')).toBe(512 * 1024);
    expect(parseMemSizeKb('512m')).toBe(512 * 1024);
    expect(parseMemSizeKb('1G')).toBe(1024 * 1024);
    expect(parseMemSizeKb('65536k')).toBe(65536);
    expect(parseMemSizeKb('4096b')).toBe(4);
    expect(parseMemSizeKb('1t')).toBe(1024 ** 3);
    for (const bad of ['', 'm', '12mb', '-1', '1.5g', '0x10']) expect(parseMemSizeKb(bad), bad).toBeNull();
  });

  it('CPU sets and xl\'s bitmap printing', () => {
    expect(parseCpuRange('0-3,^1', 8)).toEqual([0, 2, 3]);
    expect(parseCpuRange('all', 2)).toEqual([0, 1]);
    expect(parseCpuRange('nodes:0', 2)).toEqual([0, 1]);
    expect(parseCpuRange('3-1', 4)).toBe('Invalid pcpu range: 3-1.');
    expect(parseCpuRange('^all', 4)).toBe('Can\'t combine "^" and "all".');
    expect(formatCpuSet([0, 1], 2)).toBe('all');
    expect(formatCpuSet([], 2)).toBe('none');
    expect(formatCpuSet([0, 1, 2, 5], 8)).toBe('0-2,5');
  });

  it('virtual disk names as xen-vbd-interface(7) numbers them', () => {
    expect(parseVdev('xvda')?.devid).toBe(51712);
    expect(parseVdev('xvdb2')?.devid).toBe((202 << 8) | (1 << 4) | 2);
    expect(parseVdev('d536p37')?.devid).toBe((1 << 28) | (536 << 8) | 37);
    expect(parseVdev('xvdtq37')?.devid).toBe((1 << 28) | (536 << 8) | 37);
    expect(parseVdev('sdb3')?.devid).toBe((8 << 8) | (1 << 4) | 3);
    expect(parseVdev('hdc2')?.devid).toBe((22 << 8) | 2);
    expect(parseVdev('51712')?.devid).toBe(51712);
    expect(parseVdev('0xca00')?.devid).toBe(51712);
    expect(parseVdev('floppy')).toBeNull();
    expect(parseVdev('hde')).toBeNull();
  });

  it('MAC addresses', () => {
    expect([...parseMac('00:16:3E:74:3d:76')!]).toEqual([0, 0x16, 0x3e, 0x74, 0x3d, 0x76]);
    expect(parseMac('00:16:3e:74:3d')).toBeNull();
    expect(parseMac('00:16:3e:74:3d:7g')).toBeNull();
  });
});
