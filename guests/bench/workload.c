/*
 * One iteration mixes the kinds of work an OS kernel and its programs do, each small and
 * deterministic: a xorshift step and ALU arithmetic, a dense switch, a read-modify-write
 * sweep over a 384 KiB array, an open-addressing hash table insert, indirect calls through
 * a table, a walk of a linked list kept as indices, a REP MOVSB of 96..159 bytes, a table
 * CRC-32 over 32 bytes, a 64-bit division through lib/rt, and every 64 iterations a
 * recursive function. Only values, never addresses, feed the state, so the checksum is the
 * same wherever the image is loaded.
 */
#include "bench/workload.h"

#define SWEEP_WORDS (96u * 1024u)
#define HASH_SLOTS 4096u
#define LIST_NODES 64u
#define COPY_BUF 512u

static uint32_t sweep[SWEEP_WORDS];
static uint32_t hash_keys[HASH_SLOTS];
static uint32_t hash_used;
static uint32_t crc_table[256];
static struct node {
    uint32_t next, value;
} list[LIST_NODES];
static uint8_t copy_src[COPY_BUF], copy_dst[COPY_BUF];
static uint32_t iteration;

static uint32_t op_add(uint32_t a, uint32_t b) { return a + b * 3u; }
static uint32_t op_xor(uint32_t a, uint32_t b) { return a ^ (b >> 3); }
static uint32_t op_rot(uint32_t a, uint32_t b) { return (a << (b & 31)) | (a >> ((32 - (b & 31)) & 31)); }
static uint32_t op_mul(uint32_t a, uint32_t b) { return a * (b | 1u); }
static uint32_t op_sub(uint32_t a, uint32_t b) { return a - (b ^ 0x5bd1e995u); }
static uint32_t op_min(uint32_t a, uint32_t b) { return a < b ? a : b; }
static uint32_t op_bsw(uint32_t a, uint32_t b) { return __builtin_bswap32(a) + b; }
static uint32_t op_neg(uint32_t a, uint32_t b) { return ~a + (b & 0xff); }
static uint32_t (*const ops[8])(uint32_t, uint32_t) = { op_add, op_xor, op_rot, op_mul, op_sub, op_min, op_bsw, op_neg };

static uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

void workload_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    for (uint32_t i = 0; i < SWEEP_WORDS; i++) sweep[i] = i * 2654435761u;
    for (uint32_t i = 0; i < HASH_SLOTS; i++) hash_keys[i] = 0;
    hash_used = 0;
    /* A list visiting the nodes in a scrambled order (37 is coprime with 64). */
    for (uint32_t i = 0; i < LIST_NODES; i++) {
        list[i].next = (i * 37u + 11u) % LIST_NODES;
        list[i].value = i * 0x9e3779b9u;
    }
    for (uint32_t i = 0; i < COPY_BUF; i++) copy_src[i] = (uint8_t)(i * 7u + 3u);
    iteration = 0;
}

static uint32_t hash_insert(uint32_t key)
{
    key |= 1u; /* 0 marks an empty slot */
    if (hash_used >= HASH_SLOTS * 3u / 4u) {
        for (uint32_t i = 0; i < HASH_SLOTS; i++) hash_keys[i] = 0;
        hash_used = 0;
    }
    uint32_t slot = (key * 2654435761u) >> 20, probes = 0;
    while (hash_keys[slot] != 0 && hash_keys[slot] != key) {
        slot = (slot + 1u) & (HASH_SLOTS - 1u);
        probes++;
    }
    if (hash_keys[slot] == 0) {
        hash_keys[slot] = key;
        hash_used++;
    }
    return slot + probes * 131u;
}

static uint32_t crc32(const uint8_t *p, uint32_t n)
{
    uint32_t c = 0xffffffffu;
    while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

uint64_t workload_rep_bytes(uint64_t n)
{
    /* Iteration i copies 96 + (i & 63) bytes: 64 iterations copy 64*96 + 2016. */
    uint64_t full = n / 64u, rest = n % 64u;
    return full * (64u * 96u + 2016u) + rest * 96u + rest * (rest - 1u) / 2u;
}

uint32_t workload_run(uint32_t state, uint32_t iters)
{
    uint32_t x = state ? state : 0x12345678u;
    for (uint32_t n = 0; n < iters; n++) {
        uint32_t i = iteration++;
        /* xorshift32 and ALU mix */
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        uint32_t a = x + i, b = (x >> 7) ^ (i * 0x45d9f3bu);
        a = (a << 5 | a >> 27) + b;
        b = b * 31u + (a >> 11);

        switch ((a >> 3) & 7u) {
        case 0: a += b; break;
        case 1: a ^= b << 1; break;
        case 2: a -= b >> 2; break;
        case 3: a = a * 5u + 1u; break;
        case 4: a = (a & 0xffff) | (b << 16); break;
        case 5: a = ~a; break;
        case 6: a += (uint32_t)(a > b); break;
        default: a = (a >> 1) | (b & 1u) << 31; break;
        }

        /* memory sweep: 32 words, stride and start from x */
        uint32_t idx = x % SWEEP_WORDS, stride = (b & 255u) * 4u + 1u, acc = 0;
        for (int k = 0; k < 32; k++) {
            uint32_t v = sweep[idx] + a;
            sweep[idx] = v ^ (v >> 9);
            acc += v;
            idx = (idx + stride) % SWEEP_WORDS;
        }

        acc ^= hash_insert(x ^ a);

        for (int k = 0; k < 8; k++) acc = ops[(x >> (k * 3)) & 7u](acc, b + (uint32_t)k);

        uint32_t node = x & (LIST_NODES - 1u), sum = 0;
        for (int k = 0; k < 16; k++) {
            sum += list[node].value;
            node = list[node].next;
        }
        list[node].value += sum;

        uint32_t len = 96u + (i & 63u), from = x & 255u, to = (x >> 8) & 255u;
        {
            uint8_t *d = copy_dst + to;
            const uint8_t *s = copy_src + from;
            uint32_t c = len;
            __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(c) : : "memory");
        }
        copy_src[(acc >> 3) & (COPY_BUF - 1u)] ^= (uint8_t)acc;
        acc += crc32(copy_dst + (to & 127u), 32);

        uint64_t num = ((uint64_t)acc << 32) | (a ^ sum);
        uint64_t den = (i & 1u) ? (uint64_t)(b | 1u) : (((uint64_t)(b & 0xfffu) << 32) | (x | 1u));
        uint64_t q = num / den, r = num % den;
        acc += (uint32_t)q ^ (uint32_t)(q >> 32) ^ (uint32_t)r;

        if ((i & 63u) == 63u) acc += fib(12u + (x & 3u));

        x ^= acc + 0x9e3779b9u + (x << 6) + (x >> 2);
    }
    return x;
}
