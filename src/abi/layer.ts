/**
 * src/abi: Xen's public ABI in TypeScript, one file per Xen public header, written from the
 * fact sheets in shared/abi. It imports nothing; src/xen, src/dom0, the tests and the C
 * header generator (guests/include) all take their numbers from here.
 */
export const ABI_LAYER = 'abi';
