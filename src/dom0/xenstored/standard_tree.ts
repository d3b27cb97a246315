/**
 * The tree xenstored starts with (Xen's setup_structure plus what xen-init-dom0 writes):
 *
 *   /                        n0   children: tool, local, vm
 *   /tool/xenstored          n0
 *   /local/domain/0          n0   name = "Domain-0", domid = "0"
 *   /vm                      n0
 *   @introduceDomain         n0   (special: carries permissions only)
 *   @releaseDomain           n0
 *
 * Everything is owned by dom0 and invisible to other domains; the toolstack grants access
 * per domain (domain_tree.ts).
 */
import { PERMS_DOM0_ONLY } from './perms.ts';
import { EMPTY_VALUE, Store } from './store.ts';
import { latin1Bytes } from './wire.ts';

const INITIAL: ReadonlyArray<readonly [string, string, readonly string[]]> = [
  ['/', '', ['tool', 'local', 'vm']],
  ['/tool', '', ['xenstored']],
  ['/tool/xenstored', '', []],
  ['/local', '', ['domain']],
  ['/local/domain', '', ['0']],
  ['/local/domain/0', '', ['name', 'domid']],
  ['/local/domain/0/name', 'Domain-0', []],
  ['/local/domain/0/domid', '0', []],
  ['/vm', '', []],
  ['@introduceDomain', '', []],
  ['@releaseDomain', '', []],
];

export function setupStructure(store: Store): void {
  for (const [path, value, children] of INITIAL) {
    store.set(path, {
      value: value === '' ? EMPTY_VALUE : latin1Bytes(value),
      perms: PERMS_DOM0_ONLY,
      children,
      generation: store.nextGeneration(),
    });
  }
}
