import { describe, expect, it } from 'vitest';
import { parseSerialLog } from './serial_log.ts';

const LOG = [
  '(XEN) Xen version 4.17.5 (Debian 4.17.5+72-g01140da4e8-1) (pkg-xen-devel@lists.alioth.debian.org) (x86_64-linux-gnu-gcc (Debian 12.2.0-14+deb12u1) 12.2.0) debug=n Tue Dec  2 12:01:35 UTC 2025\r',
  '=== BEGIN pv-good (cfg: name="pv-good";type="pv";)',
  '  err: Parsing config from /tmp/pv-good.cfg',
  '  con: 1795893795.669174 pvtest good: summary',
  '(XEN) unrelated line during the run\r',
  '  con: 1795893795.685375   ok   x == 1 (0x1)',
  '  con: 1795893795.688646 Test result: SUCCESS\r\r',
  'RESULT|pv-good|Test result: SUCCESS|first_output_s=2.02|total_s=3.22|rc=0',
  '=== END pv-good',
  '(XEN) between runs',
  '=== BEGIN pv-crash (cfg: ...)',
  '(XEN) d31v0 Unhandled: vec 6, #UD[ffffffff]',
  '(XEN) domain_crash_sync called from entry.S: fault at ffff82d040204dd8',
  '(XEN) Domain 31 (vcpu#0) crashed on cpu#1:',
  '  con: 1.0 expecting Xen to crash this domain now: ud2',
  'RESULT|pv-crash|(no Test result line; rc=0; )|first_output_s=1|total_s=2.5|rc=0',
  '=== END pv-crash',
  '=== BEGIN pv-hang (cfg: ...)',
  '  con: 1.0 pvtest hang: never ends',
  'RESULT|pv-hang|(no Test result line; rc=124; )|first_output_s=1|total_s=121|rc=124',
  '=== END pv-hang',
  '=== BEGIN pv-truncated',
  '  con: 1.0 Test result: SUCCESS',
].join('\n');

describe('refxen serial log parser', () => {
  const log = parseSerialLog(LOG);

  it('finds the Xen version and every complete run, ignoring a truncated last one', () => {
    expect(log.xenVersion).toBe('4.17.5');
    expect(log.runs.map((r) => r.domain)).toEqual(['pv-good', 'pv-crash', 'pv-hang']);
  });

  it('takes the verdict from the last Test result line and keeps the console and Xen lines of the window', () => {
    const good = log.runs[0]!; // three runs, checked above
    expect(good.verdict).toBe('SUCCESS');
    expect(good.resultLine).toBe('Test result: SUCCESS');
    expect(good.console).toEqual(['pvtest good: summary', '  ok   x == 1 (0x1)', 'Test result: SUCCESS']);
    expect(good.xenLog).toEqual(['(XEN) unrelated line during the run']);
    expect(good.xlErrors).toEqual(['Parsing config from /tmp/pv-good.cfg']);
    expect(good.totalSeconds).toBe(3.22);
    expect(good.crash).toBeNull();
  });

  it('calls a run without a verdict line CRASH only when Xen crashed a guest domain in its window', () => {
    const crash = log.runs[1]!;
    expect(crash.verdict).toBe('CRASH');
    expect(crash.crash).toContain('Unhandled: vec 6');
    expect(crash.crash).toContain('crashed on cpu#1');
    const hang = log.runs[2]!;
    expect(hang.verdict).toBe('NO-RESULT');
    expect(hang.crash).toBeNull();
  });

  it('does not take a dom0 crash banner for the guest, nor a verdict word it does not know', () => {
    const odd = parseSerialLog(
      ['=== BEGIN pv-x', '(XEN) Domain 0 (vcpu#1) crashed on cpu#0:', '  con: 1 Test result: MAYBE', '=== END pv-x'].join('\n'),
    );
    expect(odd.runs[0]?.verdict).toBe('NO-RESULT');
    expect(odd.runs[0]?.crash).toBeNull();
  });
});
