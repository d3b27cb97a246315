/**
 * Ring protocol names (io/protocols.h; C header: xen/io/protocols.h): the values of a
 * frontend's `protocol` xenstore key, which select the request layout on the ring.
 *
 * Invariant: a missing key means the backend's native ABI — x86_32 for our 32-bit ABI
 * (Xen 3.0.x frontends never write it). An unknown value fails the connection.
 */
export const XEN_IO_PROTO_ABI_X86_32 = 'x86_32-abi';
export const XEN_IO_PROTO_ABI_X86_64 = 'x86_64-abi';
export const XEN_IO_PROTO_ABI_ARM = 'arm-abi';
/** What a 32-bit x86 guest writes. */
export const XEN_IO_PROTO_ABI_NATIVE = XEN_IO_PROTO_ABI_X86_32;
