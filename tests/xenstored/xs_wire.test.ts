/**
 * src/abi/io/xs_wire.ts against the fact sheet (shared/abi/xenstore.md): the layout
 * descriptors and the literal offsets the daemon's hot code uses agree, and the tables keep
 * Xen's order.
 */
import { describe, expect, it } from 'vitest';
import { offsetOf } from '../../src/abi/layout.ts';
import * as W from '../../src/abi/io/xs_wire.ts';

describe('io/xs_wire.ts', () => {
  it('struct xsd_sockmsg is 16 bytes: type, req_id, tx_id, len', () => {
    expect(W.xsd_sockmsg.size).toBe(16);
    expect(offsetOf(W.xsd_sockmsg, 'type')).toBe(W.XSD_SOCKMSG_TYPE);
    expect(offsetOf(W.xsd_sockmsg, 'req_id')).toBe(W.XSD_SOCKMSG_REQ_ID);
    expect(offsetOf(W.xsd_sockmsg, 'tx_id')).toBe(W.XSD_SOCKMSG_TX_ID);
    expect(offsetOf(W.xsd_sockmsg, 'len')).toBe(W.XSD_SOCKMSG_LEN);
  });

  it('struct xenstore_domain_interface matches the measured layout', () => {
    const d = W.xenstore_domain_interface;
    expect(d.size).toBe(2080);
    const expected: Array<[string, number]> = [
      ['req', 0], ['rsp', 1024], ['req_cons', 2048], ['req_prod', 2052], ['rsp_cons', 2056],
      ['rsp_prod', 2060], ['server_features', 2064], ['connection', 2068], ['error', 2072], ['evtchn_port', 2076],
    ];
    for (const [field, off] of expected) expect(offsetOf(d, field)).toBe(off);
    expect([W.XENSTORE_IF_REQ, W.XENSTORE_IF_RSP, W.XENSTORE_IF_REQ_CONS, W.XENSTORE_IF_REQ_PROD, W.XENSTORE_IF_RSP_CONS,
      W.XENSTORE_IF_RSP_PROD, W.XENSTORE_IF_SERVER_FEATURES, W.XENSTORE_IF_CONNECTION, W.XENSTORE_IF_ERROR,
      W.XENSTORE_IF_EVTCHN_PORT]).toEqual(expected.map(([, o]) => o));
    expect(W.XENSTORE_DOMAIN_INTERFACE_SIZE_3X).toBe(2064);
  });

  it('message types carry Xen numbers; names are indexed by type', () => {
    expect([W.XS_CONTROL, W.XS_DIRECTORY, W.XS_WRITE, W.XS_WATCH_EVENT, W.XS_ERROR, W.XS_RESET_WATCHES, W.XS_DIRECTORY_PART, W.XS_INVALID])
      .toEqual([0, 1, 11, 15, 16, 21, 22, 0xffff]);
    expect(W.XS_DEBUG).toBe(W.XS_CONTROL);
    expect(W.XS_TYPE_NAMES.length).toBe(W.XS_TYPE_COUNT);
    expect(W.XS_TYPE_NAMES[W.XS_SET_TARGET]).toBe('XS_SET_TARGET');
    expect(W.xsd_sockmsg_type.members.XS_DIRECTORY_PART).toBe(22);
  });

  it('xsd_errors keeps Xen order with EINVAL first', () => {
    expect(W.XSD_ERRORS.map((e) => e.errstring)).toEqual([
      'EINVAL', 'EACCES', 'EEXIST', 'EISDIR', 'ENOENT', 'ENOMEM', 'ENOSPC', 'EIO', 'ENOTEMPTY',
      'ENOSYS', 'EROFS', 'EBUSY', 'EAGAIN', 'EISCONN', 'E2BIG', 'EPERM',
    ]);
    expect(W.XSD_ERRORS.find((e) => e.errstring === 'EAGAIN')?.errnum).toBe(11);
  });

  it('limits and ring constants', () => {
    expect([W.XENSTORE_PAYLOAD_MAX, W.XENSTORE_ABS_PATH_MAX, W.XENSTORE_REL_PATH_MAX, W.XENSTORE_RING_SIZE]).toEqual([4096, 3072, 2048, 1024]);
    expect(W.MASK_XENSTORE_IDX(1024 + 5)).toBe(5);
    expect(W.MASK_XENSTORE_IDX(0xffffffff)).toBe(1023);
  });
});
