/*
 * The native oracle's fixed layout and wire format, shared by oracle.c and trampoline.S.
 * tests/x86/layout.ts and tests/x86/protocol.ts state the same numbers for the TypeScript
 * side; oracle.test.ts checks the two agree by running the oracle.
 *
 * Invariants:
 *  - Test code runs at CODE_BASE, its data region is DATA_BASE..DATA_BASE+DATA_SIZE with
 *    unmapped guard pages on both sides, so stray accesses fault instead of corrupting
 *    the oracle.
 *  - The FS and GS TLS descriptors have bases FS_BASE and GS_BASE (inside the data
 *    region), 4 GiB limits: 16-bit addressing (0x67) and segment-base arithmetic are
 *    tested through them because Linux keeps the first 64 KiB unmapped.
 *  - All multi-byte fields are little-endian and unaligned; a record is a byte stream.
 */
#ifndef ORACLE_H
#define ORACLE_H

#define CODE_BASE   0x00100000u
#define CODE_SIZE   0x00002000u
#define DATA_BASE   0x00200000u
#define DATA_SIZE   0x00002000u
#define FS_BASE     (DATA_BASE)
#define GS_BASE     (DATA_BASE + 0x1000u)

#define IN_MAGIC    0x43363858u /* "X86C" */
#define OUT_MAGIC   0x52363858u /* "X86R" */
#define WIRE_VERSION 1u

/* case flags */
#define CASE_X87    1u          /* load the FSAVE image before, store it after */

/* result status */
#define ST_DONE     0u          /* reached the end of the code */
#define ST_FAULT    1u          /* a signal (exception) stopped it */
#define ST_TIMEOUT  2u          /* ran past the time limit */

#define FSAVE_SIZE  108u

#endif
