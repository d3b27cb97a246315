/** The transcript comparison the tsxen suite relies on, including the cases it must reject. */
import { describe, expect, it } from 'vitest';
import { compareTranscripts, parseTranscript } from './compare.ts';

const QEMU = [
  '=== k ===',
  'ok 1 - a',
  'deviation 2 - limit: #GP(0): no exception, want vector 13 (QEMU is known to differ; the manual decides)',
  'checks: 1 ok, 0 failed, 1 deviations',
  'Test result: SUCCESS',
  '',
].join('\n');

describe('transcript comparison', () => {
  it('accepts tsxen passing a check QEMU deviates on', () => {
    const t = 'x\n'.replace('x', QEMU.replace(/deviation 2 - .*\n/, 'ok 2 - limit: #GP(0)\n').replace('1 ok, 0 failed, 1 deviations', '2 ok, 0 failed, 0 deviations'));
    expect(compareTranscripts(parseTranscript(QEMU), parseTranscript(t))).toEqual([]);
  });

  it('rejects tsxen deviating too, failing a check, or stopping early', () => {
    const q = parseTranscript(QEMU);
    expect(compareTranscripts(q, parseTranscript(QEMU.replace('ok 1 - a', 'not ok 1 - a')))).toHaveLength(1);
    expect(compareTranscripts(q, parseTranscript(QEMU.replace('deviation 2 - limit', 'not ok 2 - limit')))).toHaveLength(1);
    expect(compareTranscripts(q, parseTranscript('=== k ===\nok 1 - a\n'))).toHaveLength(2);
    expect(parseTranscript(QEMU).deviations).toHaveLength(1);
  });

  it('rejects an ok line whose text differs from the deviation it stands for', () => {
    const t = QEMU.replace(/deviation 2 - .*\n/, 'ok 2 - something else\n');
    expect(compareTranscripts(parseTranscript(QEMU), parseTranscript(t))).toHaveLength(1);
  });

  it('reads the result line and the failed checks', () => {
    const t = parseTranscript('ok 1 - a\nnot ok 2 - b: got 1, want 2\nTest result: FAILURE 1 checks failed\n');
    expect(t.result).toBe('Test result: FAILURE 1 checks failed');
    expect(t.failed).toEqual(['not ok 2 - b: got 1, want 2']);
  });
});
