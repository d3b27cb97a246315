/**
 * Quotas xenstored enforces on unprivileged domains (privileged connections are exempt),
 * with Xen 4.x C xenstored's names and defaults, and the error each one produces:
 *
 * | quota             | default | on violation                                         |
 * |-------------------|---------|------------------------------------------------------|
 * | nodes             | 1000    | ENOSPC when creating a node (owned nodes per domain) |
 * | watches           | 128     | E2BIG on XS_WATCH                                    |
 * | outstanding       | 20      | backpressure: the ring is not read until replies and |
 * |                   |         | the watch events a request caused are delivered      |
 * | memory            | 2.5 MiB | output queued for a domain beyond it: watch events   |
 * |                   |         | are dropped and requests are not read                |
 * | transactions      | 10      | ENOSPC on XS_TRANSACTION_START                       |
 * | transaction-nodes | 1024    | ENOSPC (distinct nodes touched by one transaction)   |
 * | node-permissions  | 5       | ENOSPC on XS_SET_PERMS                               |
 * | path-max          | 2048    | EINVAL (path length below /local/domain/<id>/)       |
 * | node-size         | 2048    | ENOSPC (20-byte header + 8/permission + value +      |
 * |                   |         | child names, Xen's record size)                      |
 *
 * Values are mutable at run time through XS_CONTROL `quota <name> <value>` (dom0 only).
 */
import { XENSTORE_REL_PATH_MAX } from '../../abi/io/xs_wire.ts';

export interface XsQuotas {
  nodes: number;
  watches: number;
  outstanding: number;
  memory: number;
  transactions: number;
  transactionNodes: number;
  nodePermissions: number;
  pathMax: number;
  nodeSize: number;
}

export function defaultQuotas(): XsQuotas {
  return {
    nodes: 1000,
    watches: 128,
    outstanding: 20,
    memory: 2 * 1024 * 1024 + 512 * 1024,
    transactions: 10,
    transactionNodes: 1024,
    nodePermissions: 5,
    pathMax: XENSTORE_REL_PATH_MAX,
    nodeSize: 2048,
  };
}

/** Xen's quota names (xenstore-control `quota`) and the field each one sets. */
export const QUOTA_NAMES: ReadonlyArray<readonly [string, keyof XsQuotas, string]> = [
  ['nodes', 'nodes', 'Nodes per domain'],
  ['watches', 'watches', 'Watches per domain'],
  ['outstanding', 'outstanding', 'Outstanding requests per domain'],
  ['memory', 'memory', 'Total Xenstore memory per domain (error level)'],
  ['transactions', 'transactions', 'Active transactions per domain'],
  ['transaction-nodes', 'transactionNodes', 'Max. number of accessed nodes per transaction'],
  ['node-permissions', 'nodePermissions', 'Max. number of permissions per node'],
  ['path-max', 'pathMax', 'Max. length of a node path'],
  ['node-size', 'nodeSize', 'Max. size of a node'],
];
