import { describe, expect, it } from 'vitest';
import { parseDiskSpec, DiskSpecError, formatDiskSpec, type DiskSpec } from './xl_disk.ts';

function ok(spec: string | string[]): DiskSpec {
  const d = parseDiskSpec(spec);
  if (d instanceof DiskSpecError) throw d;
  return d;
}

function fail(spec: string | string[]): string {
  const d = parseDiskSpec(spec);
  if (!(d instanceof DiskSpecError)) throw new Error(`${JSON.stringify(spec)} parsed: ${JSON.stringify(d)}`);
  return d.message;
}

describe('xl disk spec (xl-disk-configuration(5))', () => {
  it('reads the man page\'s equivalent disk forms as the same disk', () => {
    const forms = ['/dev/vg/guest-volume,,hda', '/dev/vg/guest-volume,raw,hda,rw',
      'format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume', 'raw:/dev/vg/guest-volume,hda,w'];
    for (const f of forms) {
      const d = ok(f);
      expect({ t: d.target, f: d.format, v: d.vdev, rw: d.readwrite, cd: d.cdrom }, f)
        .toEqual({ t: '/dev/vg/guest-volume', f: 'raw', v: 'hda', rw: true, cd: false });
      expect(d.devid).toBe(3 << 8);
    }
  });

  it('reads the man page\'s equivalent cdrom forms as the same read-only removable drive', () => {
    const forms = ['/root/image.iso,,hdc,cdrom', '/root/image.iso,,hdc,,cdrom', '/root/image.iso,raw,hdc,devtype=cdrom',
      'format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/root/image.iso', 'raw:/root/image.iso,hdc:cdrom,ro'];
    for (const f of forms) {
      const d = ok(f);
      expect({ t: d.target, v: d.vdev, rw: d.readwrite, cd: d.cdrom, rm: d.removable }, f)
        .toEqual({ t: '/root/image.iso', v: 'hdc', rw: false, cd: true, rm: true });
    }
  });

  it('takes the minios scenarios\' keyword form, script included', () => {
    const d = ok('format=raw,vdev=xvda,access=rw,script=/tests/kernels/hotplug-block,target=/tmp/02-disk.img');
    expect(d).toMatchObject({ target: '/tmp/02-disk.img', vdev: 'xvda', devid: 51712, script: '/tests/kernels/hotplug-block' });
  });

  it('target= eats the rest of the spec, commas and colons included', () => {
    expect(ok('vdev=xvdb,target=/srv/a,b:c.img').target).toBe('/srv/a,b:c.img');
  });

  it('handles deprecated prefixes, vdev:devtype, the empty xend cdrom and flags', () => {
    expect(ok('phy:/dev/sda,xvda,w')).toMatchObject({ target: '/dev/sda', format: 'raw' });
    expect(ok('tap:aio:/img,xvda,w').target).toBe('/img');
    expect(ok('nbd:host:1234,xvda').script).toBe('block-nbd');
    expect(ok(',hdc:cdrom,r')).toMatchObject({ target: '', format: 'empty', cdrom: true });
    expect(ok('/x,,xvda,no-discard,untrusted,direct-io-safe')).toMatchObject({ discard: false, trusted: false, directIoSafe: true });
    expect(ok(['/x', '', 'xvdc'].join(',')).devid).toBe((202 << 8) | (2 << 4));
  });

  it('joins block-attach\'s separate arguments into one spec', () => {
    expect(ok(['/srv/a.img,raw,', 'xvdb,', 'r'])).toMatchObject({ target: '/srv/a.img', vdev: 'xvdb', readwrite: false });
  });

  it('rejects bad specs with xl\'s messages, the offending token and the spec', () => {
    expect(fail('/usr/share/ovmf/OVMF.fd,hdb,w')).toBe(
      "config parsing error in disk specification: unknown value for format: near `hdb' in `/usr/share/ovmf/OVMF.fd,hdb,w'");
    expect(fail('/x')).toBe("config parsing error in disk specification: no vdev specified in `/x'");
    expect(fail('vdev=xvda')).toMatch(/no target specified \(and device not removable\)/);
    expect(fail('a,raw,xvda,rw,extra')).toMatch(/too many positional parameters: near `extra'/);
    expect(fail('foo=bar,/x,,xvda')).toMatch(/unknown parameter: near `foo=b'/);
    expect(fail('/x,,xvda,access=maybe')).toMatch(/unknown value for access: near `maybe'/);
    expect(fail('/x,,xvda,devtype=floppy')).toMatch(/unknown value for type/);
    expect(fail('/x,,xvda,vdev=xvdb')).toMatch(/vdev respecified: near `xvdb'/);
    expect(fail('bogus:/x,xvda')).toMatch(/unknown deprecated disk prefix/);
    expect(fail('/x,,hdc:tape')).toMatch(/unknown deprecated type: near `tape'/);
    expect(fail('=,xvda')).toMatch(/bad disk syntax/);
  });

  it('round-trips through its canonical keyword form', () => {
    for (const f of ['/srv/a.img,,xvda', 'raw:/root/i.iso,hdc:cdrom,ro', 'format=raw,vdev=xvdb,access=ro,no-discard,target=/x,y']) {
      const d = ok(f);
      expect(ok(formatDiskSpec(d))).toEqual(d);
    }
  });

  it('never throws on garbage (seeded)', () => {
    let x = 0x1234567;
    const rnd = (): number => ((x = (x ^ (x << 13)) >>> 0, x = (x ^ (x >>> 17)) >>> 0, x = (x ^ (x << 5)) >>> 0) % 1000) / 1000;
    const alphabet = 'abcdhxv:,=/ .-_rw0123456789cdromtarget=format=raw:';
    for (let i = 0; i < 3000; i++) {
      let s = '';
      const n = Math.floor(rnd() * 40);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)]!;
      const r = parseDiskSpec(s);
      expect(r instanceof DiskSpecError || typeof r.vdev === 'string', `seed 0x1234567 case ${i}: ${JSON.stringify(s)}`).toBe(true);
    }
  });
});
