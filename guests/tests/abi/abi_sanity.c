/*
 * ABI sanity kernel (bare metal, Multiboot): every generated Xen header compiled together
 * with -Wall -Wextra -Werror, and the function-like macros exercised for real.
 *
 * Output protocol (COM1), read by tests/abi/c_macros.test.ts:
 *   "val <name> <hex>..."   values the test recomputes with the TypeScript ABI
 *   "Test result: SUCCESS" or "Test result: FAILURE <what>" as the last line.
 */
#include "bare/bare.h"

#include <xen/xen.h>
#include <xen/arch-x86_32.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/arch-x86/hvm/start_info.h>
#include <xen/callback.h>
#include <xen/elfnote.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/features.h>
#include <xen/grant_table.h>
#include <xen/hvm/e820.h>
#include <xen/hvm/hvm_info_table.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/hvm/platform_pci.h>
#include <xen/io/blkif.h>
#include <xen/io/console.h>
#include <xen/io/netif.h>
#include <xen/io/protocols.h>
#include <xen/io/ring.h>
#include <xen/io/xenbus.h>
#include <xen/io/xs_paths.h>
#include <xen/io/xs_wire.h>
#include <xen/memory.h>
#include <xen/nmi.h>
#include <xen/physdev.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>

int kmain(uint32_t magic, uint32_t info);

static uint8_t ring_page[16384] __attribute__((aligned(4096)));
static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        kprintf("check %s FAILED\n", what);
        if (failures++ == 0)
            kprintf("first failure: %s\n", what);
    }
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b) { a++; b++; }
    return *a == *b;
}

static void zero_page(void)
{
    for (unsigned int i = 0; i < sizeof(ring_page); i++)
        ring_page[i] = 0xa5; /* SHARED_RING_INIT must clear what matters */
}

/* xorshift32: the same sequence the test can replay. */
static uint32_t rng_state = 0x5eed;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Front/back over one blkif page: init, push, consume, respond, re-arm, wrap. */
static void blkif_ring_protocol(void)
{
    blkif_sring_t *s = (blkif_sring_t *)ring_page;
    blkif_front_ring_t fr;
    blkif_back_ring_t br;
    int notify, work;
    unsigned int i;

    zero_page();
    SHARED_RING_INIT(s);
    check(s->req_prod == 0 && s->rsp_prod == 0 && s->req_event == 1 && s->rsp_event == 1, "SHARED_RING_INIT indexes");
    check(s->__pad[0] == 0 && s->__pad[43] == 0 && s->pvt.pvt_pad[3] == 0, "SHARED_RING_INIT padding");
    FRONT_RING_INIT(&fr, s, 4096);
    BACK_RING_INIT(&br, s, 4096);
    check(RING_SIZE(&fr) == 32 && RING_SIZE(&br) == 32, "blkif RING_SIZE 32");
    check(RING_FREE_REQUESTS(&fr) == 32 && !RING_FULL(&fr), "empty ring free");
    check(__RING_SIZE(s, 8192) == 64 && __RING_SIZE(s, 65536) == 512, "multi-page __RING_SIZE");

    for (i = 0; i < 3; i++) {
        blkif_request_t *req = RING_GET_REQUEST(&fr, fr.req_prod_pvt++);
        req->operation = BLKIF_OP_READ;
        req->id = 100 + i;
    }
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&fr, notify);
    check(notify == 1 && s->req_prod == 3, "first push notifies (req_event 1 in (0,3])");
    check(RING_HAS_UNCONSUMED_REQUESTS(&br) == 3, "backend sees 3 requests");
    for (i = 0; i < 3; i++) {
        blkif_request_t req;
        RING_COPY_REQUEST(&br, br.req_cons, &req);
        br.req_cons++;
        check(req.id == 100 + i && req.operation == BLKIF_OP_READ, "request copied in order");
        blkif_response_t *rsp = RING_GET_RESPONSE(&br, br.rsp_prod_pvt++);
        rsp->id = req.id;
        rsp->operation = req.operation;
        rsp->status = BLKIF_RSP_OKAY;
    }
    RING_FINAL_CHECK_FOR_REQUESTS(&br, work);
    check(work == 0 && s->req_event == 4, "final check re-arms req_event = req_cons + 1");
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&br, notify);
    check(notify == 1 && s->rsp_prod == 3, "responses published, frontend notified");
    check(RING_HAS_UNCONSUMED_RESPONSES(&fr) == 3, "frontend sees 3 responses");
    fr.rsp_cons = s->rsp_prod;
    RING_FINAL_CHECK_FOR_RESPONSES(&fr, work);
    check(work == 0 && s->rsp_event == 4, "frontend re-arms rsp_event");

    fr.req_prod_pvt++;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&fr, notify);
    check(notify == 1, "push past req_event notifies");
    fr.req_prod_pvt++;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&fr, notify);
    check(notify == 0, "second push before re-arm does not notify");

    /* Indexes near 2^32: fill to full, drain, across the wrap. */
    FRONT_RING_ATTACH(&fr, s, 0xfffffff0u, 4096);
    BACK_RING_ATTACH(&br, s, 0xfffffff0u, 4096);
    s->req_prod = s->rsp_prod = 0xfffffff0u;
    s->req_event = s->rsp_event = 0xfffffff1u;
    for (i = 0; i < 32; i++)
        RING_GET_REQUEST(&fr, fr.req_prod_pvt++)->id = i;
    check(RING_FULL(&fr), "32 outstanding requests fill the ring");
    RING_PUSH_REQUESTS(&fr);
    check(RING_HAS_UNCONSUMED_REQUESTS(&br) == 32, "backend sees a full ring across the wrap");
    for (i = 0; i < 32; i++) {
        check(RING_GET_REQUEST(&br, br.req_cons)->id == i, "wrapped request order");
        br.req_cons++;
        RING_GET_RESPONSE(&br, br.rsp_prod_pvt++)->id = i;
    }
    RING_PUSH_RESPONSES(&br);
    check(RING_HAS_UNCONSUMED_RESPONSES(&fr) == 32, "frontend sees 32 responses");
    fr.rsp_cons += 32;
    check(RING_FREE_REQUESTS(&fr) == 32, "ring empty again after the wrap");

    /* A hostile frontend claims 1000 requests: the backend never takes more than the ring. */
    s->req_prod = br.req_cons + 1000;
    check(RING_HAS_UNCONSUMED_REQUESTS(&br) == 32, "hostile req_prod clamped to RING_SIZE");
    check(RING_REQUEST_PROD_OVERFLOW(&br, s->req_prod), "hostile req_prod detected");
    check(!RING_REQUEST_CONS_OVERFLOW(&br, br.req_cons), "consumer not overflowing");
}

/* The notify rule on random (old, new, event) triples, printed for the TypeScript check. */
static void notify_samples(void)
{
    netif_tx_sring_t *s = (netif_tx_sring_t *)ring_page;
    netif_tx_front_ring_t fr;
    int notify;

    SHARED_RING_INIT(s);
    FRONT_RING_INIT(&fr, s, 4096);
    check(RING_SIZE(&fr) == 256, "netif tx RING_SIZE 256");
    for (int i = 0; i < 64; i++) {
        uint32_t old = rng(), n = old + (rng() % 40), ev = (i & 3) ? old + (rng() % 50) - 5 : rng();
        s->req_prod = old;
        s->req_event = ev;
        fr.req_prod_pvt = n;
        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&fr, notify);
        kprintf("val notify %x %x %x %x\n", old, n, ev, notify);
    }
}

static void small_macros(void)
{
    static const uint32_t pfns[] = { 0, 1, 0x12345, 0xfffff, 0x100000, 0x123456, 0xabcdef12, 0xffffffff };
    struct trap_info ti = { 0 };
    struct xencons_interface *cons = (struct xencons_interface *)ring_page;
    struct xen_memory_reservation res;
    xen_pfn_t frames[4];

    for (unsigned int i = 0; i < sizeof(pfns) / sizeof(pfns[0]); i++) {
        uint32_t cr3 = xen_pfn_to_cr3(pfns[i]);
        kprintf("val cr3 %x %x\n", pfns[i], cr3);
        check(xen_cr3_to_pfn(cr3) == pfns[i], "xen_cr3_to_pfn inverts xen_pfn_to_cr3");
    }
    TI_SET_DPL(&ti, 3);
    TI_SET_IF(&ti, 1);
    check(TI_GET_DPL(&ti) == 3 && TI_GET_IF(&ti) != 0 && ti.flags == 7, "TI_* macros");
    check(MASK_XENCONS_IDX(2048u + 5, cons->out) == 5 && MASK_XENCONS_IDX(1024u + 5, cons->in) == 5, "MASK_XENCONS_IDX");
    check(MASK_XENSTORE_IDX(1029u) == 5 && MASK_XENSTORE_IDX(0xffffffffu) == 1023, "MASK_XENSTORE_IDX");
    check(XENMEMF_get_node(XENMEMF_node(3)) == 3 && XENMEMF_get_address_bits(XENMEMF_address_bits(32)) == 32, "XENMEMF_*");
    set_xen_guest_handle(res.extent_start, frames);
    check((void *)res.extent_start == (void *)frames, "set_xen_guest_handle");
    check(xsd_errors[0].errnum == XEN_EINVAL && streq(xsd_errors[0].errstring, "EINVAL"), "xsd_errors[0] is EINVAL");
    check(xsd_errors[12].errnum == 11 && streq(xsd_errors[12].errstring, "EAGAIN"), "xsd_errors[12] is EAGAIN");
    {
        static const char *const msgs[] = GNTTABOP_error_msgs;
        check(streq(msgs[-GNTST_bad_page], "bad page"), "GNTTABOP_error_msgs indexed by -GNTST_*");
    }
    check(streq(XEN_START_INFO_MAGIC_X86_32P, "xen-3.0-x86_32p"), "start_info magic");
    check(XenbusStateConnected == 4 && sizeof(XenbusState) == sizeof(int), "XenbusState enum");
    check(xen_vcpu_physid_to_x86_acpiid(0x0000000500000007ULL) == 5 && xen_vcpu_physid_to_x86_apicid(0x0000000500000007ULL) == 7, "vcpu physid macros");
    kprintf("val sizes %x %x %x %x\n", (uint32_t)sizeof(struct start_info), (uint32_t)sizeof(struct shared_info),
            (uint32_t)sizeof(struct vcpu_guest_context), (uint32_t)sizeof(blkif_request_t));
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)info;
    kprintf("abi sanity: %u headers' macros on bare metal\n", 29u);
    if (magic != 0x2BADB002) {
        kprintf("Test result: FAILURE bad multiboot magic\n");
        return 1;
    }
    blkif_ring_protocol();
    notify_samples();
    small_macros();
    if (failures) {
        kprintf("Test result: FAILURE %d checks failed\n", failures);
        return 1;
    }
    kprintf("Test result: SUCCESS\n");
    return 0;
}
