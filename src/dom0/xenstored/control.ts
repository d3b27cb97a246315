/**
 * XS_CONTROL (formerly XS_DEBUG), dom0 only: the commands of Xen's xenstored that make sense
 * here, with Xen's reply texts (xenstore-control prints them):
 *
 *   check                       verify the store's invariants (problems go to the log)
 *   print <string>              write <string> to the log
 *   quota                       list the quotas ("Quota settings:" table)
 *   quota set <name> <val>      change a quota (val >= 1)
 *   quota <domid>               a domain's usage
 *   help                        list the commands
 *
 * Unknown commands and wrong argument counts -> EINVAL, as in Xen. Live update, trace logs
 * and memory reports are Xen daemon internals without a counterpart here.
 */
import { asDomId, isDomId } from '../../abi/types.ts';
import { QUOTA_NAMES } from './quota.ts';
import { checkStore } from './store_check.ts';
import { atoi } from './wire.ts';
import type { XenStored } from './xenstored.ts';
import { XS_ERR } from './xs_error.ts';

const COMMANDS: ReadonlyArray<readonly [string, string]> = [
  ['check', ''],
  ['print', '<string>'],
  ['quota', '[set <name> <val>|<domid>]'],
  ['help', ''],
];

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const padLeft = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

/** Run a control command (`args[0]` is the command); returns the reply payload. */
export function doControl(d: XenStored, args: readonly string[]): string {
  const [cmd, ...rest] = args;
  switch (cmd) {
    case 'check': {
      if (rest.length !== 0) throw XS_ERR.EINVAL;
      for (const problem of checkStore(d.store)) d.log(`xenstored: check: ${problem}`);
      return 'OK\0';
    }
    case 'print':
      if (rest.length !== 1) throw XS_ERR.EINVAL;
      d.log(`control: ${rest[0]}`);
      return 'OK\0';
    case 'quota':
      return quota(d, rest);
    case 'help':
      if (rest.length !== 0) throw XS_ERR.EINVAL;
      return `${COMMANDS.map(([c, p]) => `${pad(c, 15)} ${p}\n`).join('')}\0`;
    default:
      throw XS_ERR.EINVAL;
  }
}

function quota(d: XenStored, args: readonly string[]): string {
  if (args.length === 0) {
    let s = 'Quota settings:\n';
    for (const [name, key, descr] of QUOTA_NAMES) s += `${pad(name, 17)}: ${padLeft(String(d.quotas[key]), 8)} ${descr}\n`;
    return `${s}\0`;
  }
  if (args[0] === 'set') {
    if (args.length !== 3) throw XS_ERR.EINVAL;
    const val = atoi(args[2]!); // SAFETY: length 3
    const entry = QUOTA_NAMES.find(([name]) => name === args[1]);
    if (val < 1 || entry === undefined) throw XS_ERR.EINVAL;
    d.quotas[entry[1]] = val;
    return 'OK\0';
  }
  if (args.length !== 1) throw XS_ERR.EINVAL;
  const domid = atoi(args[0]!); // SAFETY: length 1
  const dom = isDomId(domid) ? d.domains.get(asDomId(domid)) : undefined;
  if (dom === undefined) throw XS_ERR.ENOENT;
  const c = dom.conn;
  const rows: Array<readonly [string, number]> = [
    ['nodes', d.store.ownedCount(domid)],
    ['watches', c.watches.length],
    ['outstanding', c.outstanding],
    ['memory', c.queuedBytes],
    ['transactions', c.transactions.size],
  ];
  return `Domain ${domid}:\n${rows.map(([n, v]) => `${pad(n, 17)}: ${padLeft(String(v), 8)}\n`).join('')}\0`;
}
