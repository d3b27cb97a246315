/*
 * The native oracle: runs batches of x86 test cases on the host CPU, in 32-bit user mode,
 * and reports the architectural state each one ends in. A freestanding static i386 Linux
 * program (no libc: int 0x80 only), built once; test cases are data on stdin, results go
 * to stdout (wire format: tests/x86/protocol.ts, constants: oracle.h).
 *
 * Invariants:
 *  - Every case starts from exactly the state its record describes: the data region is
 *    refilled from the case's fill seed and patches, the code region gets the case's bytes
 *    followed by `jmp x86_exit_stub`, the x87 is reset (fninit) or loaded (frstor).
 *  - A case that faults is reported, never fatal: the handler (on its own signal stack, so
 *    the test stack is untouched) copies the ucontext into the result and resumes the
 *    oracle at x86_recover. A case that runs away is stopped by a virtual-time itimer.
 *  - A signal while no case runs is an oracle bug: report it and exit 3.
 *  - The data region is reported as the runs of bytes that differ from its initial
 *    contents, so results stay small while every write is still seen.
 */
#include <stdint.h>
#include "oracle.h"

typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;

/* i386 Linux system call numbers */
enum {
    NR_exit_group = 252, NR_read = 3, NR_write = 4, NR_mmap2 = 192, NR_rt_sigaction = 174,
    NR_sigaltstack = 186, NR_setitimer = 104, NR_set_thread_area = 243,
};
enum { SIGILL_ = 4, SIGTRAP_ = 5, SIGBUS_ = 7, SIGFPE_ = 8, SIGSEGV_ = 11, SIGVTALRM_ = 26 };
#define SA_SIGINFO_  0x00000004u
#define SA_ONSTACK_  0x08000000u
#define SA_RESTORER_ 0x04000000u
#define PROT_RWX     7u
#define PROT_RW      3u
#define MAP_PRIVATE_ANON_FIXED 0x32u
#define MAP_PRIVATE_ANON_NORESERVE 0x4022u
#define ITIMER_VIRTUAL_ 1

static long sys3(long nr, long a, long b, long c)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}

static long sys4(long nr, long a, long b, long c, long d)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d) : "memory");
    return r;
}

static long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
    /* ebp carries the sixth argument; gcc may not name it as an asm operand. */
    long r;
    long args[2] = { e, f };
    __asm__ volatile("push %%ebp\n\tmovl 4(%%edi), %%ebp\n\tmovl 0(%%edi), %%edi\n\tint $0x80\n\tpop %%ebp"
                     : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(args) : "memory");
    return r;
}

__attribute__((noreturn)) static void die(const char *msg, u32 val);

void *memcpy(void *d, const void *s, unsigned n);
void *memset(void *d, int c, unsigned n);
void *memcpy(void *d, const void *s, unsigned n)
{
    u8 *dp = d; const u8 *sp = s;
    while (n--) *dp++ = *sp++;
    return d;
}
void *memset(void *d, int c, unsigned n)
{
    u8 *dp = d;
    while (n--) *dp++ = (u8)c;
    return d;
}

/* Register block shared with trampoline.S; the field offsets are fixed there. */
struct tramp {
    u32 gpr[8];         /* eax ecx edx ebx esp ebp esi edi */
    u32 eflags, eip;
    u32 ds, es, fs, gs, cs, ss;
};
struct tramp t_in, t_out;
u32 t_saved_esp;
u16 t_flat_ds_ss, t_oracle_cs, t_oracle_fs, t_oracle_gs;

extern void x86_run_case(void);
extern char x86_exit_stub[], x86_recover[];

static volatile u32 in_case;
static u32 out_status, out_signo, out_trapno, out_err, out_cr2;

/* ucontext_t on i386: 20 bytes of uc_flags/uc_link/uc_stack, then struct sigcontext. */
enum { MC_GS, MC_FS, MC_ES, MC_DS, MC_EDI, MC_ESI, MC_EBP, MC_ESP, MC_EBX, MC_EDX, MC_ECX,
       MC_EAX, MC_TRAPNO, MC_ERR, MC_EIP, MC_CS, MC_EFLAGS, MC_ESP_AT_SIGNAL, MC_SS,
       MC_FPSTATE, MC_OLDMASK, MC_CR2 };

static void on_signal(int sig, void *info, void *uc)
{
    (void)info;
    u32 *mc = (u32 *)((u8 *)uc + 20);
    if (!in_case) {
        if (sig == SIGVTALRM_) return;        /* a late tick after the case ended */
        die("oracle: signal outside a test case, eip=", mc[MC_EIP]);
    }
    in_case = 0;
    t_out.gpr[0] = mc[MC_EAX]; t_out.gpr[1] = mc[MC_ECX];
    t_out.gpr[2] = mc[MC_EDX]; t_out.gpr[3] = mc[MC_EBX];
    t_out.gpr[4] = mc[MC_ESP]; t_out.gpr[5] = mc[MC_EBP];
    t_out.gpr[6] = mc[MC_ESI]; t_out.gpr[7] = mc[MC_EDI];
    t_out.eip = mc[MC_EIP]; t_out.eflags = mc[MC_EFLAGS];
    t_out.ds = mc[MC_DS] & 0xffff; t_out.es = mc[MC_ES] & 0xffff;
    t_out.fs = mc[MC_FS] & 0xffff; t_out.gs = mc[MC_GS] & 0xffff;
    t_out.cs = mc[MC_CS] & 0xffff; t_out.ss = mc[MC_SS] & 0xffff;
    out_status = sig == SIGVTALRM_ ? ST_TIMEOUT : ST_FAULT;
    out_signo = (u32)sig;
    out_trapno = mc[MC_TRAPNO];
    out_err = mc[MC_ERR];
    out_cr2 = mc[MC_CR2];
    /* Resume in x86_recover on the oracle's stack with its own segments. */
    mc[MC_EIP] = (u32)x86_recover;
    mc[MC_ESP] = t_saved_esp;
    mc[MC_CS] = t_oracle_cs;
    mc[MC_SS] = t_flat_ds_ss; mc[MC_DS] = t_flat_ds_ss; mc[MC_ES] = t_flat_ds_ss;
    mc[MC_FS] = t_oracle_fs; mc[MC_GS] = t_oracle_gs;
    mc[MC_EFLAGS] = 0x202;
}

__asm__(".text\n"
        "x86_sigreturn:\n"
        "\tmovl $173, %eax\n"   /* rt_sigreturn */
        "\tint $0x80\n");
extern char x86_sigreturn[];

/* ---- output ---- */

static u8 *out_buf;
static u32 out_len;
#define OUT_RESERVE (64u << 20)
#define OUT_FLUSH   (1u << 20)

static void flush_out(void)
{
    u32 off = 0;
    while (off < out_len) {
        long n = sys3(NR_write, 1, (long)(out_buf + off), (long)(out_len - off));
        if (n <= 0) sys3(NR_exit_group, 4, 0, 0);
        off += (u32)n;
    }
    out_len = 0;
}
static void put8(u32 v) { out_buf[out_len++] = (u8)v; }
static void put16(u32 v) { put8(v); put8(v >> 8); }
static void put32(u32 v) { put16(v); put16(v >> 16); }
static void putn(const u8 *p, u32 n) { memcpy(out_buf + out_len, p, n); out_len += n; }

static void die(const char *msg, u32 val)
{
    char buf[128];
    u32 n = 0;
    while (*msg && n < 100) buf[n++] = *msg++;
    for (int s = 28; s >= 0; s -= 4) buf[n++] = "0123456789abcdef"[(val >> s) & 15];
    buf[n++] = '\n';
    sys3(NR_write, 2, (long)buf, (long)n);
    sys3(NR_exit_group, 3, 0, 0);
    __builtin_unreachable();
}

/* ---- input ---- */

static u8 *in_buf;
static u32 in_len, in_pos;
#define IN_RESERVE (256u << 20)

static void read_all(void)
{
    for (;;) {
        if (in_len == IN_RESERVE) die("oracle: input larger than ", IN_RESERVE);
        long n = sys3(NR_read, 0, (long)(in_buf + in_len), (long)(IN_RESERVE - in_len));
        if (n < 0) die("oracle: read failed: ", (u32)-n);
        if (n == 0) return;
        in_len += (u32)n;
    }
}
static void need(u32 n) { if (in_len - in_pos < n) die("oracle: truncated input at ", in_pos); }
static u32 get8(void) { need(1); return in_buf[in_pos++]; }
static u32 get16(void) { u32 v = get8(); return v | get8() << 8; }
static u32 get32(void) { u32 v = get16(); return v | get16() << 16; }

/* ---- data region fill: splitmix32, mirrored by fillDataRegion in protocol.ts ---- */

static u8 shadow[DATA_SIZE];

static void fill_shadow(u32 seed)
{
    u32 s = seed;
    for (u32 i = 0; i < DATA_SIZE; i += 4) {
        s += 0x9e3779b9u;
        u32 z = s;
        z = (z ^ (z >> 16)) * 0x85ebca6bu;
        z = (z ^ (z >> 13)) * 0xc2b2ae35u;
        z ^= z >> 16;
        shadow[i] = (u8)z; shadow[i + 1] = (u8)(z >> 8);
        shadow[i + 2] = (u8)(z >> 16); shadow[i + 3] = (u8)(z >> 24);
    }
}

/* ---- setup ---- */

static u16 tls_selector(u32 want_entry, u32 base)
{
    /* struct user_desc: entry, base, limit, then flags: seg_32bit, contents(2),
     * read_exec_only, limit_in_pages, seg_not_present, useable. */
    u32 desc[4] = { want_entry, base, 0xfffff, 1u | 1u << 4 | 1u << 6 };
    long r = sys3(NR_set_thread_area, (long)desc, 0, 0);
    if (r < 0) {
        desc[0] = (u32)-1;
        r = sys3(NR_set_thread_area, (long)desc, 0, 0);
        if (r < 0) die("oracle: set_thread_area failed: ", (u32)-r);
    }
    return (u16)(desc[0] << 3 | 3);
}

static void map_fixed(u32 addr, u32 size, u32 prot)
{
    long r = sys6(NR_mmap2, (long)addr, (long)size, (long)prot, MAP_PRIVATE_ANON_FIXED, -1, 0);
    if ((u32)r != addr) die("oracle: cannot map fixed region at ", addr);
}

static void *map_reserve(u32 size)
{
    long r = sys6(NR_mmap2, 0, (long)size, PROT_RW, MAP_PRIVATE_ANON_NORESERVE, -1, 0);
    if ((u32)r > 0xfffff000u) die("oracle: cannot reserve memory: ", size);
    return (void *)r;
}

static void setup(void)
{
    map_fixed(CODE_BASE, CODE_SIZE, PROT_RWX);
    map_fixed(DATA_BASE, DATA_SIZE, PROT_RW);
    in_buf = map_reserve(IN_RESERVE);
    out_buf = map_reserve(OUT_RESERVE);

    u16 cs, ss, fs, gs;
    __asm__ volatile("movw %%cs, %0; movw %%ss, %1; movw %%fs, %2; movw %%gs, %3"
                     : "=r"(cs), "=r"(ss), "=r"(fs), "=r"(gs));
    t_oracle_cs = cs; t_flat_ds_ss = ss; t_oracle_fs = fs; t_oracle_gs = gs;

    static u8 altstack[65536];
    u32 ss_desc[3] = { (u32)altstack, 0, sizeof altstack };
    if (sys3(NR_sigaltstack, (long)ss_desc, 0, 0) < 0) die("oracle: sigaltstack failed", 0);
    u32 act[5] = { (u32)on_signal, SA_SIGINFO_ | SA_ONSTACK_ | SA_RESTORER_, (u32)x86_sigreturn, 0, 0 };
    static const int sigs[] = { SIGILL_, SIGTRAP_, SIGBUS_, SIGFPE_, SIGSEGV_, SIGVTALRM_ };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sys4(NR_rt_sigaction, sigs[i], (long)act, 0, 8) < 0)
            die("oracle: rt_sigaction failed for ", (u32)sigs[i]);
}

static void set_timer(u32 usec)
{
    u32 it[4] = { 0, 0, usec / 1000000u, usec % 1000000u };
    sys3(NR_setitimer, ITIMER_VIRTUAL_, (long)it, 0);
}

/* ---- one case ---- */

static u8 fsave_img[FSAVE_SIZE];

static void run_one(void)
{
    u32 id = get32();
    u32 flags = get32();
    for (int i = 0; i < 8; i++) t_in.gpr[i] = get32();
    t_in.eflags = get32();
    t_in.ds = get16(); t_in.es = get16(); t_in.fs = get16(); t_in.gs = get16();
    u32 seed = get32();
    u32 npatch = get16();
    u32 code_len = get16();
    if (code_len > CODE_SIZE - 16) die("oracle: code too long: ", code_len);

    fill_shadow(seed);
    for (u32 p = 0; p < npatch; p++) {
        u32 off = get16(), len = get16();
        if (off + len > DATA_SIZE) die("oracle: patch outside the data region at ", off);
        need(len);
        memcpy(shadow + off, in_buf + in_pos, len);
        in_pos += len;
    }
    need(code_len);
    u8 *code = (u8 *)CODE_BASE;
    memcpy(code, in_buf + in_pos, code_len);
    in_pos += code_len;
    u32 end = CODE_BASE + code_len;
    code[code_len] = 0xe9;
    u32 rel = (u32)x86_exit_stub - (end + 5);
    memcpy(code + code_len + 1, &rel, 4);
    if (flags & CASE_X87) {
        need(FSAVE_SIZE);
        memcpy(fsave_img, in_buf + in_pos, FSAVE_SIZE);
        in_pos += FSAVE_SIZE;
    }
    memcpy((void *)DATA_BASE, shadow, DATA_SIZE);

    out_status = ST_DONE; out_signo = out_trapno = out_err = out_cr2 = 0;
    if (flags & CASE_X87) __asm__ volatile("frstor %0" : : "m"(fsave_img));
    else __asm__ volatile("fninit");
    set_timer(100000);
    in_case = 1;
    x86_run_case();
    in_case = 0;
    if (flags & CASE_X87) __asm__ volatile("fnsave %0" : "=m"(fsave_img));
    set_timer(0);
    if (out_status == ST_DONE) t_out.eip = end;

    if (out_len > OUT_RESERVE - OUT_FLUSH) flush_out();
    put32(id);
    put32(out_status); put32(out_signo); put32(out_trapno); put32(out_err); put32(out_cr2);
    for (int i = 0; i < 8; i++) put32(t_out.gpr[i]);
    put32(t_out.eip); put32(t_out.eflags);
    put16(t_out.cs); put16(t_out.ss); put16(t_out.ds); put16(t_out.es); put16(t_out.fs); put16(t_out.gs);
    /* changed runs of the data region: merge gaps shorter than 4 bytes */
    const u8 *data = (const u8 *)DATA_BASE;
    u32 nruns_at = out_len;
    put16(0);
    u32 nruns = 0;
    for (u32 i = 0; i < DATA_SIZE;) {
        if (data[i] == shadow[i]) { i++; continue; }
        u32 start = i, last = i;
        for (i++; i < DATA_SIZE && i - last < 4; i++)
            if (data[i] != shadow[i]) last = i;
        u32 len = last - start + 1;
        put16(start); put16(len); putn(data + start, len);
        nruns++;
        i = last + 1;
    }
    out_buf[nruns_at] = (u8)nruns; out_buf[nruns_at + 1] = (u8)(nruns >> 8);
    if (flags & CASE_X87) putn(fsave_img, FSAVE_SIZE);
}

int x86_oracle_main(void);
int x86_oracle_main(void)
{
    setup();
    u16 fs_sel = tls_selector(12, FS_BASE);
    u16 gs_sel = tls_selector(13, GS_BASE);
    read_all();
    if (get32() != IN_MAGIC) die("oracle: bad input magic at ", 0);
    if (get32() != WIRE_VERSION) die("oracle: wire version mismatch, oracle speaks ", WIRE_VERSION);
    u32 count = get32();
    put32(OUT_MAGIC); put32(WIRE_VERSION); put32(count);
    put16(t_oracle_cs); put16(t_flat_ds_ss); put16(fs_sel); put16(gs_sel);
    for (u32 i = 0; i < count; i++) run_one();
    if (in_pos != in_len) die("oracle: trailing input at ", in_pos);
    flush_out();
    return 0;
}

__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "\tandl $-16, %esp\n"
        "\tcall x86_oracle_main\n"
        "\tmovl %eax, %ebx\n"
        "\tmovl $252, %eax\n"
        "\tint $0x80\n");
