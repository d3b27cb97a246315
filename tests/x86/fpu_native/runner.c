/*
 * Native x87 runner for the FPU differential test (fpu_native.test.ts): executes one x87
 * instruction per case on the host CPU, in 32-bit user mode, and reports the FPU state after.
 * Freestanding static i386 Linux program: no libc, int 0x80 for read/write/exit.
 *
 * Protocol (little-endian, fixed-size records; the TypeScript side owns the generator):
 *   stdin : N records of IN_SIZE bytes
 *             0   108-byte FSAVE image (32-bit protected layout) loaded with FRSTOR
 *             112 EFLAGS to load (arithmetic bits only)   116 EAX to load
 *             120 16 code bytes (one instruction, NOP padded)
 *             160 512 bytes: initial contents of the operand area
 *   stdout: a 16-byte header: "X87R", version, address of the operand area, address of the
 *           code slot; then N records of OUT_SIZE bytes
 *             0   FXSAVE image after the instruction   512 FNSAVE image after FXSAVE
 *             620 EFLAGS after                         624 EAX after
 *             640 512 bytes: the operand area after
 * Invariants: the instruction runs with exactly the state its record describes; the state is
 * captured with non-waiting instructions only (FXSAVE, FNSAVE), so an unmasked exception the
 * instruction leaves pending is reported, never delivered. Records whose initial state already
 * has an exception pending would fault in FRSTOR's successor: the generator never makes them.
 */
typedef unsigned int u32;
typedef unsigned char u8;

#define IN_SIZE 672
#define OUT_SIZE 1152
#define MAX_CASES 50000
#define FLUSH_CASES 128

static u8 inbuf[IN_SIZE * MAX_CASES];
static u8 outbuf[OUT_SIZE * FLUSH_CASES];

u8 memarea[4096] __attribute__((aligned(4096)));
u8 state_in[108] __attribute__((aligned(16)));
u8 fx_out[512] __attribute__((aligned(16)));
u8 fs_out[108] __attribute__((aligned(16)));
u32 eflags_in, eax_in, eflags_out, eax_out, saved_esp;
extern u8 codeslot[16];
void run_case(void);

/* The trampoline lives in a writable, executable section so the code slot can be patched. */
__asm__(
    ".section .rwx,\"awx\",@progbits\n"
    ".globl run_case\n"
    "run_case:\n"
    "  pushal\n"
    "  movl %esp, saved_esp\n"
    "  frstor state_in\n"
    "  movl eax_in, %eax\n"
    "  pushl eflags_in\n"
    "  popfl\n"
    ".globl codeslot\n"
    "codeslot:\n"
    "  .fill 16, 1, 0x90\n"
    "  pushfl\n"
    "  popl eflags_out\n"
    "  movl %eax, eax_out\n"
    "  fxsave fx_out\n"
    "  fnsave fs_out\n"
    "  movl saved_esp, %esp\n"
    "  popal\n"
    "  ret\n"
    ".text\n");

static long sys3(long nr, long a, long b, long c)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}

static void copy(u8 *d, const u8 *s, u32 n)
{
    while (n--) *d++ = *s++;
}

static void write_all(const u8 *p, u32 n)
{
    while (n > 0) {
        long w = sys3(4, 1, (long)p, (long)n);
        if (w <= 0) sys3(1, 2, 0, 0);
        p += w;
        n -= (u32)w;
    }
}

void _start(void) __attribute__((noreturn));
void _start(void)
{
    u32 total = 0;
    for (;;) {
        if (total == sizeof inbuf) sys3(1, 4, 0, 0);
        long r = sys3(3, 0, (long)(inbuf + total), (long)(sizeof inbuf - total));
        if (r < 0) sys3(1, 5, 0, 0);
        if (r == 0) break;
        total += (u32)r;
    }
    if (total % IN_SIZE) sys3(1, 6, 0, 0);
    u32 n = total / IN_SIZE;

    u32 hdr[4] = { 0x52373858u /* "X87R" */, 1, (u32)memarea, (u32)codeslot };
    write_all((const u8 *)hdr, sizeof hdr);

    u32 pending = 0;
    for (u32 i = 0; i < n; i++) {
        const u8 *in = inbuf + i * IN_SIZE;
        u8 *out = outbuf + pending * OUT_SIZE;
        copy(state_in, in, 108);
        eflags_in = *(const u32 *)(in + 112);
        eax_in = *(const u32 *)(in + 116);
        copy(codeslot, in + 120, 16);
        copy(memarea, in + 160, 512);
        run_case();
        copy(out, fx_out, 512);
        copy(out + 512, fs_out, 108);
        *(u32 *)(out + 620) = eflags_out;
        *(u32 *)(out + 624) = eax_out;
        for (u32 k = 628; k < 640; k++) out[k] = 0;
        copy(out + 640, memarea, 512);
        if (++pending == FLUSH_CASES) {
            write_all(outbuf, pending * OUT_SIZE);
            pending = 0;
        }
    }
    write_all(outbuf, pending * OUT_SIZE);
    sys3(1, 0, 0, 0);
    for (;;) {}
}
