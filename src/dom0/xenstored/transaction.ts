/**
 * Transactions with per-node conflict detection (Xen 4.x C xenstored semantics).
 *
 * A transaction is a private overlay on the store. The first time it looks at a path it
 * records the committed node's generation (or NO_GENERATION if absent); its own writes and
 * deletions live in the overlay. Commit succeeds only if every recorded path still has the
 * recorded generation; then the overlay is applied, each written node getting a fresh
 * generation, and the queued watch events fire. Otherwise commit fails with EAGAIN and
 * nothing is applied or fired. Abort discards everything.
 *
 * Because writes always look at the node first (and creation looks at the parents), the
 * recorded set covers every node read or written: a commit conflicts iff something it read
 * or wrote changed meanwhile. Reads of paths not yet touched see the current committed
 * state, which is safe because that state is validated at commit (serializable).
 *
 * Example: T1 reads A (g=1); someone writes A (g=4); T1 writes B; commit T1 -> A's
 * generation 4 != 1 -> EAGAIN, B unchanged, no watch fires.
 *
 * Invariants:
 * - The overlay only holds paths that are also in `_accessed`.
 * - Watch changes are merged per path; a non-exact change wins over an exact one (a
 *   removal root or write fires ancestors too), as in Xen's queue_watches.
 */
import type { XsPerms } from './perms.ts';
import { NO_GENERATION, Store, type XsNode } from './store.ts';
import type { ChangeSink, NodeView } from './node_view.ts';
import { XS_ERR, type XsError } from './xs_error.ts';

interface QueuedChange {
  exact: boolean;
  oldPerms: XsPerms | undefined;
}

/** Marker for a path deleted inside the transaction. */
const DELETED = null;

export class Transaction implements NodeView {
  readonly inTransaction = true;
  /** Path -> committed generation when first looked at. */
  private readonly _accessed = new Map<string, number>();
  /** Path -> node written in this transaction, or DELETED. */
  private readonly _overlay = new Map<string, XsNode | null>();
  private readonly _changes = new Map<string, QueuedChange>();
  /** Owner domid -> change of its node count made by this transaction. */
  private readonly _ownerDelta = new Map<number, number>();
  /** Set when an operation inside failed in a way that cannot be undone (quota). */
  private _failure: XsError | undefined;

  /**
   * @param id connection-local transaction id (non-zero)
   * @param maxAccessed limit on distinct paths touched (transaction-nodes quota), or Infinity
   */
  constructor(
    readonly id: number,
    private readonly _store: Store,
    private readonly _maxAccessed: number,
  ) {}

  get accessedCount(): number {
    return this._accessed.size;
  }

  /** True if this transaction created nodes (the node quota is then rechecked at commit). */
  get createdNodes(): boolean {
    for (const d of this._ownerDelta.values()) if (d > 0) return true;
    return false;
  }

  get(path: string): XsNode | undefined {
    const o = this._overlay.get(path);
    if (o !== undefined) return o ?? undefined;
    const node = this._store.get(path);
    if (!this._accessed.has(path)) {
      if (this._accessed.size >= this._maxAccessed) {
        this._failure = XS_ERR.ENOSPC;
        throw XS_ERR.ENOSPC;
      }
      this._accessed.set(path, node === undefined ? NO_GENERATION : node.generation);
    }
    return node;
  }

  put(path: string, value: Uint8Array, perms: XsPerms, children: readonly string[]): XsNode {
    const old = this.get(path);
    const node: XsNode = { value, perms, children, generation: this._store.nextGeneration() };
    this._overlay.set(path, node);
    if (old !== undefined) this._delta(old.perms[0]!.id, -1); // SAFETY: perms never empty
    this._delta(perms[0]!.id, 1); // SAFETY: perms never empty
    return node;
  }

  del(path: string): void {
    const old = this.get(path);
    if (old === undefined) return;
    this._overlay.set(path, DELETED);
    this._delta(old.perms[0]!.id, -1); // SAFETY: perms never empty
  }

  changed(path: string, exact: boolean, oldPerms: XsPerms | undefined): void {
    const q = this._changes.get(path);
    if (q === undefined) this._changes.set(path, { exact, oldPerms });
    else if (!exact) q.exact = false;
  }

  ownedCount(domid: number): number {
    return this._store.ownedCount(domid) + (this._ownerDelta.get(domid) ?? 0);
  }

  /**
   * Validate and apply. `nodeQuota` (unprivileged committer) bounds the committer's owned
   * nodes after the commit. Throws EAGAIN on a conflict, ENOSPC on quota; on success fires
   * the queued watch events into `sink`.
   */
  commit(sink: ChangeSink, committer: number, nodeQuota: number | undefined): void {
    if (this._failure !== undefined) throw this._failure;
    for (const [path, gen] of this._accessed) {
      const cur = this._store.get(path);
      if ((cur === undefined ? NO_GENERATION : cur.generation) !== gen) throw XS_ERR.EAGAIN;
    }
    if (nodeQuota !== undefined && this.createdNodes && this.ownedCount(committer) > nodeQuota) throw XS_ERR.ENOSPC;
    for (const [path, node] of this._overlay) {
      if (node === DELETED) this._store.delete(path);
      else this._store.set(path, { ...node, generation: this._store.nextGeneration() });
    }
    for (const [path, q] of this._changes) sink.fireWatches(path, q.exact, q.oldPerms);
  }

  private _delta(domid: number, d: number): void {
    this._ownerDelta.set(domid, (this._ownerDelta.get(domid) ?? 0) + d);
  }
}
