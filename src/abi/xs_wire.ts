/**
 * The xenstore wire protocol lives in io/xs_wire.ts, named after Xen's public/io/xs_wire.h;
 * this alias keeps `src/abi/xs_wire.ts` importable for code that looks for it at the top.
 */
export * from './io/xs_wire.ts';
