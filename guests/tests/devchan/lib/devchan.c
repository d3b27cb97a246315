/* The devchan test framework (see devchan.h). */
#include "devchan.h"

domid_t devchan_self;
domid_t devchan_peer = DOMID_INVALID;
char devchan_role[32];

int devchan_streq(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

uint32_t devchan_atou(const char *s)
{
    uint32_t v = 0;
    while (*s >= '0' && *s <= '9') v = v * 10 + (uint32_t)(*s++ - '0');
    return v;
}

void *devchan_boot_va(unsigned long mfn)
{
    return pvt_mfn_to_va(mfn);
}

void *devchan_page(unsigned long *mfn)
{
    void *p = pvt_alloc_page();
    if (mfn) *mfn = pvt_va_to_mfn((unsigned long)p);
    return p;
}

int devchan_wait_port(evtchn_port_t port, uint64_t timeout_ns)
{
    int fired = pvt_poll_port(port, pvt_now() + timeout_ns);
    if (fired) xen_evtchn_clear(pvt_shared, port);
    return fired;
}

int devchan_role_is(const char *role)
{
    return devchan_streq(devchan_role, role);
}

void devchan_init(unsigned grant_frames)
{
    void *ring = devchan_boot_va(pvt_si->store_mfn);
    if (!ring) pvtest_error("xenstore ring mfn %lx is not in the boot region", (unsigned long)pvt_si->store_mfn);
    /* Our own wait loops poll the store port: keep it masked so no upcall eats the event. */
    xen_evtchn_mask(pvt_shared, pvt_si->store_evtchn);
    xb_init(ring, pvt_si->store_evtchn, pvt_shared);
    xenbus.timeout_ns = DEVCHAN_TIMEOUT_NS;
    uint32_t id;
    int rc = xb_read_u32(XB_NIL, "domid", &id);
    if (rc < 0) pvtest_error("xenstore: reading domid: %s", xb_strerror(rc));
    devchan_self = (domid_t)id;
    rc = xb_read(XB_NIL, "devchan/role", devchan_role, sizeof(devchan_role));
    if (rc < 0) devchan_role[0] = 0;
    if (xb_read_u32(XB_NIL, "devchan/peer", &id) == 0) devchan_peer = (domid_t)id;
    pv_printf("devchan: domid %u role %s peer %d\n", devchan_self, devchan_role[0] ? devchan_role : "-",
              devchan_peer == DOMID_INVALID ? -1 : (int)devchan_peer);

    if (!grant_frames) return;
    static xen_pfn_t frames[16];
    if (grant_frames > 16) grant_frames = 16;
    rc = xen_gnttab_setup(grant_frames, frames);
    if (rc != GNTST_okay) pvtest_error("setup_table(%u): %d (%s)", grant_frames, rc, xen_gntst_str(rc));
    /* Map the frames on consecutive pool pages (the pool hands out consecutive VAs). */
    unsigned long base = 0;
    for (unsigned i = 0; i < grant_frames; i++) {
        unsigned long va = (unsigned long)pvt_alloc_page();
        if (i == 0) base = va;
        else if (va != base + i * PVT_PAGE_SIZE) pvtest_error("grant table pages not contiguous");
        long m = pvt_map(va, frames[i], _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY);
        if (m) pvtest_error("mapping grant frame %u (mfn %lx): %ld", i, (unsigned long)frames[i], m);
    }
    xen_gnttab_attach((volatile void *)base, grant_frames);
}

void devchan_put(const char *key, const char *fmt, ...)
{
    char path[96], value[128];
    va_list ap;
    va_start(ap, fmt);
    pv_vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    pv_snprintf(path, sizeof(path), "devchan/%s", key);
    int rc = xb_write(XB_NIL, path, value);
    if (rc < 0) pvtest_error("xenstore: writing %s: %s", path, xb_strerror(rc));
}

void devchan_get(const char *key, char *buf, unsigned size)
{
    if (devchan_peer == DOMID_INVALID) pvtest_error("no peer to read %s from", key);
    char path[96];
    pv_snprintf(path, sizeof(path), "/local/domain/%u/devchan/%s", devchan_peer, key);
    int rc = xb_watch(path, key);
    if (rc < 0) pvtest_error("xenstore: watching %s: %s", path, xb_strerror(rc));
    uint64_t deadline = pvt_now() + DEVCHAN_TIMEOUT_NS;
    for (;;) {
        rc = xb_read(XB_NIL, path, buf, size);
        if (rc >= 0) break;
        if (rc != -XEN_ENOENT) pvtest_error("xenstore: reading %s: %s", path, xb_strerror(rc));
        uint64_t now = pvt_now();
        if (now >= deadline || xb_wait_event(key, 0, 0, deadline - now) < 0)
            pvtest_error("timed out waiting for %s", path);
    }
    xb_unwatch(path, key);
    /* Events of this token still queued are stale now. */
    while (xb_wait_event(key, 0, 0, 0) == 1) {}
}

uint32_t devchan_get_u32(const char *key)
{
    char buf[24];
    devchan_get(key, buf, sizeof(buf));
    return devchan_atou(buf);
}

void devchan_sync(const char *name)
{
    char buf[8];
    devchan_put(name, "1");
    devchan_get(name, buf, sizeof(buf));
}
