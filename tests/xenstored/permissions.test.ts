/**
 * Permission checks for unprivileged domains (xenstore.md §6), over their rings: what a
 * domain may read, write, create, remove and re-permission, which error it gets (EACCES
 * vs ENOENT), inheritance on creation, SET_TARGET, and relative paths.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { XS_ERROR, XS_GET_PERMS, XS_MKDIR, XS_READ, XS_RM, XS_SET_PERMS, XS_WRITE } from '../../src/abi/io/xs_wire.ts';
import type { XenStored } from '../../src/dom0/xenstored/xenstored.ts';
import type { XsLocalHandle } from '../../src/dom0/xenstored/local_handle.ts';
import type { XsClient } from '../../src/dom0/xenstored/xs_client.ts';
import { asDomId } from '../../src/abi/types.ts';
import { daemon, ringDomain, text } from './harness.ts';

let d: XenStored;
let dom0: XsLocalHandle;
let g5: XsClient;
let g6: XsClient;

beforeEach(() => {
  ({ d, dom0 } = daemon());
  g5 = ringDomain(d, 5).client;
  g6 = ringDomain(d, 6).client;
  dom0.write('/secret/value', 's');
  dom0.write('/pub/value', 'p');
  dom0.setPerms('/pub', ['r0']);
  dom0.setPerms('/pub/value', ['r0']);
  dom0.write('/shared/ro', 'x');
  dom0.setPerms('/shared', ['n0', 'b5']);
  dom0.setPerms('/shared/ro', ['n0', 'r5']);
});

async function err(c: XsClient, type: number, payload: string): Promise<string> {
  const r = await c.request(type, payload);
  return r.type === XS_ERROR ? text(r.payload).slice(0, -1) : `ok:${text(r.payload)}`;
}

describe('reading', () => {
  it('a node owned by dom0 with n0 is EACCES; the default letter applies to unlisted domains', async () => {
    expect(await err(g5, XS_READ, '/secret/value\0')).toBe('EACCES');
    expect(await err(g5, XS_READ, '/pub/value\0')).toBe('ok:p');
    expect(await err(g6, XS_READ, '/pub/value\0')).toBe('ok:p');
    expect(await err(g6, XS_READ, '/shared/ro\0')).toBe('EACCES'); // r5 only, default n
    expect(await err(g5, XS_READ, '/shared/ro\0')).toBe('ok:x');
  });

  it('a missing node is ENOENT only if the nearest existing ancestor is readable', async () => {
    expect(await err(g5, XS_READ, '/secret/value/none\0')).toBe('EACCES');
    expect(await err(g5, XS_READ, '/secret/a/b/c\0')).toBe('EACCES');
    expect(await err(g5, XS_READ, '/pub/none\0')).toBe('ENOENT');
    expect(await err(g5, XS_READ, '/pub/a/b/c\0')).toBe('ENOENT');
    expect(await err(g5, XS_READ, '/none\0')).toBe('EACCES'); // root is n0
  });

  it('directory and get_perms need read access too', async () => {
    expect(await err(g5, 1 /* XS_DIRECTORY */, '/secret\0')).toBe('EACCES');
    expect(await err(g5, XS_GET_PERMS, '/secret/value\0')).toBe('EACCES');
    expect(await err(g5, XS_GET_PERMS, '/pub/value\0')).toBe('ok:r0\0');
  });
});

describe('writing and creating', () => {
  it('write needs write access on the node; creation on the nearest existing ancestor', async () => {
    expect(await err(g5, XS_WRITE, '/pub/value\0v')).toBe('EACCES');
    expect(await err(g5, XS_WRITE, '/pub/new\0v')).toBe('EACCES');
    expect(await err(g5, XS_WRITE, '/secret/new\0v')).toBe('EACCES');
    expect(await err(g5, XS_WRITE, '/shared/ro\0v')).toBe('EACCES');
    expect(await err(g5, XS_WRITE, '/shared/new/deep\0v')).toBe('ok:OK\0');
    expect(await err(g6, XS_WRITE, '/shared/new2\0v')).toBe('EACCES');
    expect(dom0.tryRead('/pub/new')).toBeUndefined();
    expect(dom0.tryRead('/secret/new')).toBeUndefined();
  });

  it('new nodes copy the parent permissions with the creator as owner', async () => {
    await g5.write('/shared/mine/leaf', 'v');
    expect(dom0.getPerms('/shared/mine')).toEqual(['n5', 'b5']);
    expect(dom0.getPerms('/shared/mine/leaf')).toEqual(['n5', 'b5']);
    // dom0 creating keeps the parent's owner.
    dom0.write('/shared/by0', '');
    expect(dom0.getPerms('/shared/by0')).toEqual(['n0', 'b5']);
    // The creator owns it: it can now change the non-owner entries.
    await g5.setPerms('/shared/mine/leaf', ['n5', 'r6']);
    expect(await g6.read('/shared/mine/leaf')).toBe('v');
  });

  it('mkdir and rm are write operations', async () => {
    expect(await err(g5, XS_MKDIR, '/pub/dir\0')).toBe('EACCES');
    expect(await err(g5, XS_MKDIR, '/pub\0')).toBe('EACCES'); // exists but not writable
    expect(await err(g5, XS_RM, '/pub/value\0')).toBe('EACCES');
    expect(await err(g5, XS_RM, '/pub/none\0')).toBe('EACCES');
    expect(await err(g5, XS_RM, '/secret/none\0')).toBe('EACCES');
    expect(await err(g5, XS_RM, '/shared/ro\0')).toBe('EACCES');
    await g5.write('/shared/tmp/x', '1');
    expect(await err(g5, XS_RM, '/shared/tmp\0')).toBe('ok:OK\0');
    expect(await err(g5, XS_RM, '/shared/tmp\0')).toBe('ok:OK\0');
    expect(dom0.tryRead('/pub/value')).toBe('p');
  });

  it('w grants write without read', async () => {
    dom0.write('/drop', '');
    dom0.setPerms('/drop', ['n0', 'w5']);
    expect(await err(g5, XS_WRITE, '/drop\0v')).toBe('ok:OK\0');
    expect(await err(g5, XS_READ, '/drop\0')).toBe('EACCES');
    expect(dom0.read('/drop')).toBe('v');
  });
});

describe('set_perms', () => {
  it('only the owner (or dom0) may change permissions; a domain may not give away ownership', async () => {
    expect(await err(g5, XS_SET_PERMS, '/shared\0n5\0')).toBe('EACCES'); // b5 is not ownership
    expect(await err(g5, XS_SET_PERMS, '/secret\0n5\0')).toBe('EACCES');
    expect(await err(g5, XS_SET_PERMS, '/shared/none\0n5\0')).toBe('ENOENT'); // parent grants write
    await g5.write('/shared/own', '');
    expect(await err(g5, XS_SET_PERMS, '/shared/own\0n6\0')).toBe('EPERM');
    expect(await err(g5, XS_SET_PERMS, '/shared/own\0b5\0r6\0')).toBe('ok:OK\0');
    expect(dom0.getPerms('/shared/own')).toEqual(['b5', 'r6']);
    // dom0 may give it to anyone.
    dom0.setPerms('/shared/own', ['n6']);
    expect(await err(g5, XS_READ, '/shared/own\0')).toBe('EACCES');
    expect(await err(g6, XS_READ, '/shared/own\0')).toBe('ok:');
  });
});

describe('SET_TARGET and relative paths', () => {
  it('a domain with a target has owner rights on the target domain nodes', async () => {
    dom0.write('/local/domain/5/device-model', 'dm');
    dom0.setPerms('/local/domain/5/device-model', ['n5']);
    expect(await err(g6, XS_READ, '/local/domain/5/device-model\0')).toBe('EACCES');
    d.domains.setTarget(asDomId(6), asDomId(5));
    expect(await err(g6, XS_READ, '/local/domain/5/device-model\0')).toBe('ok:dm');
    expect(await err(g6, XS_SET_PERMS, '/local/domain/5/device-model\0n5\0r6\0')).toBe('ok:OK\0');
    // Entries naming the target apply to the stub domain too.
    dom0.write('/t', 'x');
    dom0.setPerms('/t', ['n0', 'r5']);
    expect(await err(g6, XS_READ, '/t\0')).toBe('ok:x');
  });

  it('relative paths resolve against /local/domain/<domid>', async () => {
    dom0.mkdir('/local/domain/5');
    dom0.setPerms('/local/domain/5', ['n0', 'r5']);
    dom0.write('/local/domain/5/name', 'five');
    dom0.setPerms('/local/domain/5/name', ['n0', 'r5']);
    expect(await g5.read('name')).toBe('five');
    expect(await err(g6, XS_READ, 'name\0')).toBe('EACCES'); // /local/domain/6/name: root says n0
  });
});
