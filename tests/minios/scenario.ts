/**
 * minios scenarios (tests/minios/refxen/scenarios/NAME.cfg): xl.cfg lines plus directives
 * in comments, run on the real Xen by refxen/dom0-run.sh and on tsxen by tsxen.test.ts.
 * This module is the one reader of the directive syntax on the TypeScript side; the
 * shell runner implements the same actions (keep the two in step, see dom0-run.sh).
 *
 *   # disk: SIZE                        an empty image (e.g. 32M) the disk= line names
 *   # after: REGEX => ACTION [ARGS]     when a console line matches, do ACTION (in order)
 *   # check-disk: START COUNT SEED      afterwards the image holds the disk test pattern
 *   # expect: SUCCESS|FAILURE           the verdict a correct Xen gives (default SUCCESS)
 *   # tsxen-only: WHY / refxen-only: WHY
 *
 * Invariant: a malformed directive or an unknown action throws, naming the file and line,
 * so a typo never silently drops a check.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export const ACTIONS = {
  ping: 2, 'udp-echo': 3, 'save-restore': 0, 'mem-set': 1, 'expect-mem': 1, shutdown: 0,
  reboot: 0, sleep: 1, 'vcpu-times': 0, ok: -1,
  'block-detach': 1, 'block-attach': 1, 'network-detach': 1, 'network-attach': 1,
} as const;
export type ActionName = keyof typeof ACTIONS;

export interface AfterDirective {
  readonly pattern: RegExp;
  readonly action: ActionName;
  readonly args: readonly string[];
}

export interface DiskCheck {
  readonly start: number;
  readonly count: number;
  readonly seed: number;
}

export interface Scenario {
  readonly name: string;
  /** The xl.cfg lines (directives removed). */
  readonly xl: string;
  readonly diskSize: number | null;
  readonly after: readonly AfterDirective[];
  readonly checkDisk: readonly DiskCheck[];
  readonly expect: 'SUCCESS' | 'FAILURE';
  readonly only: { readonly where: 'tsxen' | 'refxen'; readonly why: string } | null;
}

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

function parseSize(s: string, where: string): number {
  const m = /^(\d+)([KMG]?)$/.exec(s);
  if (!m) throw new ScenarioError(`${where}: bad size "${s}"`);
  const mult = { '': 1, K: 1024, M: 1024 * 1024, G: 1024 * 1024 * 1024 }[m[2] as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * mult;
}

function parseInt10(s: string | undefined, what: string, where: string): number {
  if (s === undefined || !/^\d+$/.test(s)) throw new ScenarioError(`${where}: bad ${what} "${s ?? ''}"`);
  return Number(s);
}

export function parseScenario(name: string, text: string): Scenario {
  const xl: string[] = [];
  const after: AfterDirective[] = [];
  const checkDisk: DiskCheck[] = [];
  let diskSize: number | null = null;
  let expect: Scenario['expect'] = 'SUCCESS';
  let only: Scenario['only'] = null;
  text.split('\n').forEach((line, i) => {
    const where = `${name}.cfg:${i + 1}`;
    const d = /^\s*#\s*([a-z-]+):\s*(.*?)\s*$/.exec(line);
    if (!d) {
      if (!/^\s*#/.test(line) && line.trim()) xl.push(line);
      return;
    }
    const [, key, rest] = d as unknown as [string, string, string]; // both groups always match
    switch (key) {
      case 'disk':
        diskSize = parseSize(rest, where);
        break;
      case 'after': {
        const m = /^(.*?) => (\S+)(?: (.*))?$/.exec(rest);
        if (!m) throw new ScenarioError(`${where}: want "after: REGEX => ACTION [ARGS]"`);
        const action = m[2] as ActionName; // checked against ACTIONS next
        if (!(action in ACTIONS)) throw new ScenarioError(`${where}: unknown action "${m[2]}"`);
        const args = m[3] ? m[3].split(' ') : [];
        const arity = ACTIONS[action];
        if (arity >= 0 && args.length !== arity)
          throw new ScenarioError(`${where}: ${action} takes ${arity} arguments, not ${args.length}`);
        after.push({ pattern: new RegExp(m[1]!), action, args }); // group 1 always matches
        break;
      }
      case 'check-disk': {
        const p = rest.split(/\s+/);
        checkDisk.push({
          start: parseInt10(p[0], 'start', where), count: parseInt10(p[1], 'count', where),
          seed: parseInt10(p[2], 'seed', where),
        });
        break;
      }
      case 'expect':
        if (rest !== 'SUCCESS' && rest !== 'FAILURE') throw new ScenarioError(`${where}: expect SUCCESS or FAILURE`);
        expect = rest;
        break;
      case 'tsxen-only':
      case 'refxen-only':
        only = { where: key === 'tsxen-only' ? 'tsxen' : 'refxen', why: rest };
        break;
      default:
        throw new ScenarioError(`${where}: unknown directive "${key}"`);
    }
  });
  return { name, xl: xl.join('\n') + '\n', diskSize, after, checkDisk, expect, only };
}

export const SCENARIO_DIR = new URL('./refxen/scenarios/', import.meta.url);

export function loadScenarios(dir: string = SCENARIO_DIR.pathname): Scenario[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cfg'))
    .sort()
    .map((f) => parseScenario(basename(f, '.cfg'), readFileSync(join(dir, f), 'utf8')));
}

/** The extra= value of an xl config (the kernel command line). */
export function extraOf(xl: string): string {
  const m = /^\s*extra\s*=\s*"((?:[^"\\]|\\.)*)"/m.exec(xl);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : ''; // group 1 always matches
}
