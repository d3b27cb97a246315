/**
 * xl.cfg files, valid and broken (tests/toolstack/configs): a valid file gives the typed
 * config xl would build, with warnings for what this toolstack ignores; a broken one gives
 * the message naming the file, the line and the key.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyXlOverrides, formatXlConfig, parseXlConfig, pvConfig } from '../../src/dom0/toolstack/xl_config.ts';
import { parseConfigText } from '../../src/dom0/toolstack/xl_load.ts';
import { formatMac } from '../../src/dom0/toolstack/xl_values.ts';

const DIR = join(import.meta.dirname, 'configs');
const read = (name: string): string => readFileSync(join(DIR, name), 'utf8');
const load = (name: string): ReturnType<typeof pvConfig> => pvConfig(parseXlConfig(read(name), name));
const errorOf = (name: string): string => {
  try {
    load(name);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${name} was accepted`);
};

describe('xl.cfg files', () => {
  it('full.cfg: every key this toolstack acts on', () => {
    const c = load('full.cfg');
    expect(c).toMatchObject({
      name: 'web-1', memoryMiB: 64, maxmemMiB: 96, vcpus: 2, maxvcpus: 4, cmdline: 'root=/dev/xvda1 ro console=hvc0',
      cpus: '0-1', cpusSoft: ['0', '1'], cpuWeight: 512, cap: 50, onPoweroff: 'destroy', onReboot: 'restart',
      onCrash: 'preserve', onWatchdog: 'rename-restart', uuid: '6a1f3b3e-2d4c-4f5e-9a8b-7c6d5e4f3a2b', ioports: [[0x3f8, 0x3ff]],
    });
    expect(c.disks.map((d) => [d.target, d.vdev, d.devid, d.readwrite])).toEqual([
      ['/srv/web-1.img', 'xvda', 51712, true], ['/srv/data,1.img', 'xvdb', 51728, false],
    ]);
    expect(c.vifs.map((v) => (v.mac ? formatMac(v.mac) : null))).toEqual(['00:16:3e:01:02:03', null]);
    expect(c.ignored).toEqual(['serial', 'boot']);
    expect(c.warnings).toEqual([
      "full.cfg:26: warning: `serial' ignored: only HVM guests have an emulated serial port",
      "full.cfg:27: warning: `boot' ignored: only HVM guests boot from emulated devices",
    ]);
  });

  it('unknown-keys.cfg: keys nobody knows and keys that change nothing here are warned about, never fatal', () => {
    const c = load('unknown-keys.cfg');
    expect(c).toMatchObject({ name: 'u', memoryMiB: 16 });
    expect(c.ignored).toEqual(['foo', 'vnc', 'bootloader', 'bar']);
    expect(c.warnings).toEqual([
      "unknown-keys.cfg:4: warning: unknown setting `foo' ignored",
      "unknown-keys.cfg:5: warning: `vnc' ignored: no framebuffer for PV guests here",
      "unknown-keys.cfg:7: warning: `bootloader' ignored: no bootloader: give kernel=",
      "unknown-keys.cfg:8: warning: unknown setting `bar' ignored",
    ]);
  });

  it('minimal.cfg: libxl\'s defaults', () => {
    expect(load('minimal.cfg')).toMatchObject({
      memoryMiB: 32, maxmemMiB: 32, vcpus: 1, maxvcpus: 1, cmdline: '', onPoweroff: 'destroy', onReboot: 'restart',
      onCrash: 'destroy', onWatchdog: 'destroy', onSoftReset: 'soft-reset', disks: [], vifs: [], ignored: [],
    });
  });

  it('extra config lines on the command line win and are named as such', () => {
    const raw = parseXlConfig(read('minimal.cfg'), 'minimal.cfg');
    applyXlOverrides(raw, ['memory=48', 'kernel=other.elf', 'extra="cmd=\\"echo hi\\""', 'vif=["mac=00:16:3e:00:00:09"]']);
    const c = pvConfig(raw);
    expect(c).toMatchObject({ memoryMiB: 48, kernel: 'other.elf', cmdline: 'cmd="echo hi"' });
    applyXlOverrides(raw, ['vcpus=0']);
    expect(() => pvConfig(raw)).toThrow(/^command line: vcpus: 0 is out of range/);
  });

  it('relative paths resolve against the directory xl runs in', () => {
    const { cfg } = parseConfigText(read('full.cfg'), 'full.cfg', [], '/home/me');
    expect(cfg.kernel).toBe('/home/me/guests/build/minios.elf');
    expect(cfg.disks[0]!.target).toBe('/srv/web-1.img');
  });

  it('a config written back parses to the same config', () => {
    const c = load('full.cfg');
    const again = pvConfig(parseXlConfig(formatXlConfig(c), 'again'));
    expect({ ...again, warnings: [], ignored: [] }).toEqual({ ...c, warnings: [], ignored: [] });
  });

  const broken: Array<[string, string]> = [
    ['bad-syntax.cfg', "bad-syntax.cfg:3: memory: config parsing error near `@64': expected a string, number or list"],
    ['bad-number.cfg', 'bad-number.cfg:4: memory: parameter `memory\' is not a valid number ("lots")'],
    ['bad-disk.cfg', "bad-disk.cfg:4: disk: config parsing error in disk specification: unknown value for format: near `hdb' in `/usr/share/ovmf/OVMF.fd,hdb,w'"],
    ['bad-vif.cfg', 'bad-vif.cfg:3: vif: element 1: Invalid parameter `mac\'. ("00:16:3e:zz:00:01")'],
    ['bad-action.cfg', 'bad-action.cfg:3: on_crash: Unknown on_crash action "explode" specified (one of destroy, restart, rename-restart, preserve, coredump-destroy, coredump-restart, soft-reset)'],
    ['bad-vcpus.cfg', 'bad-vcpus.cfg:4: maxvcpus: xl: maxvcpus < vcpus (2 < 4)'],
    ['bad-maxmem.cfg', 'bad-maxmem.cfg:4: maxmem: maxmem (32 MiB) is less than memory (64 MiB)'],
    ['no-name.cfg', 'no-name.cfg: name: Domain name must be specified.'],
    ['hvm.cfg', 'hvm.cfg:2: type: type="hvm": only PV guests are supported by tsxen'],
    ['unterminated.cfg', 'unterminated.cfg:2: extra: config parsing error at end of line: unterminated string'],
    ['bad-list.cfg', "bad-list.cfg:3: disk: config parsing error at end of file: unterminated list (missing ']')"],
    ['contradict.cfg', 'contradict.cfg:4: builder: Contradicting "builder" and "type" options specified.'],
  ];
  for (const [file, message] of broken) {
    it(`${file}: ${message.split(': ').slice(2).join(': ').slice(0, 60)}`, () => {
      expect(errorOf(file)).toBe(message);
    });
  }
});
