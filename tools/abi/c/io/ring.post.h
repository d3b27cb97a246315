#ifndef __ASSEMBLY__
/*
 * Barriers. x86 keeps store/store and load/load order, so the write and read barriers only
 * stop the compiler; the full barrier orders a store before a later load (notify checks).
 * A guest may define its own before including this header.
 */
#ifndef xen_mb
#define xen_mb()  __asm__ __volatile__("lock; addl $0,0(%%esp)" ::: "memory")
#endif
#ifndef xen_rmb
#define xen_rmb() __asm__ __volatile__("" ::: "memory")
#endif
#ifndef xen_wmb
#define xen_wmb() __asm__ __volatile__("" ::: "memory")
#endif

/* Largest power of two <= x (0 for 0), as an integer constant expression. */
#define __XEN_SMEAR1(x) ((x) | ((x) >> 1))
#define __XEN_SMEAR2(x) (__XEN_SMEAR1(x) | (__XEN_SMEAR1(x) >> 2))
#define __XEN_SMEAR4(x) (__XEN_SMEAR2(x) | (__XEN_SMEAR2(x) >> 4))
#define __XEN_SMEAR8(x) (__XEN_SMEAR4(x) | (__XEN_SMEAR4(x) >> 8))
#define __XEN_SMEAR16(x) (__XEN_SMEAR8(x) | (__XEN_SMEAR8(x) >> 16))
#define __RD32(x) ((__XEN_SMEAR16((uint32_t)(x)) >> 1) + ((uint32_t)(x) != 0))

/* Slots of a ring of _sz bytes: (bytes after the 64-byte header) / entry, rounded down to 2^n. */
#define __CONST_RING_SIZE(_name, _sz) \
    (__RD32(((_sz) - __builtin_offsetof(struct _name##_sring, ring)) / \
            sizeof(((struct _name##_sring *)0)->ring[0])))
#define __RING_SIZE(_s, _sz) \
    (__RD32(((_sz) - (unsigned long)((char *)(_s)->ring - (char *)(_s))) / sizeof((_s)->ring[0])))

/*
 * DEFINE_RING_TYPES(name, request type, response type) declares:
 *   union name_sring_entry, struct name_sring (the shared page),
 *   struct name_front_ring / name_back_ring (each end's private indexes), and _t typedefs.
 */
#define DEFINE_RING_TYPES(__name, __req_t, __rsp_t)                           \
union __name##_sring_entry {                                                  \
    __req_t req;                                                              \
    __rsp_t rsp;                                                              \
};                                                                            \
struct __name##_sring {                                                       \
    RING_IDX req_prod, req_event;                                             \
    RING_IDX rsp_prod, rsp_event;                                             \
    union { uint8_t pvt_pad[4]; } pvt;                                        \
    uint8_t __pad[44];                                                        \
    union __name##_sring_entry ring[];                                        \
};                                                                            \
struct __name##_front_ring {                                                  \
    RING_IDX req_prod_pvt;                                                    \
    RING_IDX rsp_cons;                                                        \
    unsigned int nr_ents;                                                     \
    struct __name##_sring *sring;                                             \
};                                                                            \
struct __name##_back_ring {                                                   \
    RING_IDX rsp_prod_pvt;                                                    \
    RING_IDX req_cons;                                                        \
    unsigned int nr_ents;                                                     \
    struct __name##_sring *sring;                                             \
};                                                                            \
typedef struct __name##_sring __name##_sring_t;                               \
typedef struct __name##_front_ring __name##_front_ring_t;                     \
typedef struct __name##_back_ring __name##_back_ring_t

/* Frontend only: initialise the shared page (producers 0, event indexes 1, padding 0). */
#define SHARED_RING_INIT(_s) do {                                             \
    unsigned int __i;                                                         \
    (_s)->req_prod = (_s)->rsp_prod = 0;                                      \
    (_s)->req_event = (_s)->rsp_event = 1;                                    \
    for (__i = 0; __i < sizeof((_s)->pvt.pvt_pad); __i++)                     \
        (_s)->pvt.pvt_pad[__i] = 0;                                           \
    for (__i = 0; __i < sizeof((_s)->__pad); __i++)                           \
        (_s)->__pad[__i] = 0;                                                 \
} while (0)

#define FRONT_RING_ATTACH(_r, _s, _i, __size) do {                            \
    (_r)->req_prod_pvt = (_i);                                                \
    (_r)->rsp_cons = (_i);                                                    \
    (_r)->nr_ents = __RING_SIZE(_s, __size);                                  \
    (_r)->sring = (_s);                                                       \
} while (0)
#define FRONT_RING_INIT(_r, _s, __size) FRONT_RING_ATTACH(_r, _s, 0, __size)

#define BACK_RING_ATTACH(_r, _s, _i, __size) do {                             \
    (_r)->rsp_prod_pvt = (_i);                                                \
    (_r)->req_cons = (_i);                                                    \
    (_r)->nr_ents = __RING_SIZE(_s, __size);                                  \
    (_r)->sring = (_s);                                                       \
} while (0)
#define BACK_RING_INIT(_r, _s, __size) BACK_RING_ATTACH(_r, _s, 0, __size)

#define RING_SIZE(_r) ((_r)->nr_ents)
#define RING_FREE_REQUESTS(_r) (RING_SIZE(_r) - ((_r)->req_prod_pvt - (_r)->rsp_cons))
#define RING_FULL(_r) (RING_FREE_REQUESTS(_r) == 0)
#define RING_HAS_UNCONSUMED_RESPONSES(_r) ((_r)->sring->rsp_prod - (_r)->rsp_cons)
/* Never more than the slots not yet answered, whatever req_prod a hostile peer wrote. */
#define RING_HAS_UNCONSUMED_REQUESTS(_r) ({                                   \
    unsigned int __req = (_r)->sring->req_prod - (_r)->req_cons;              \
    unsigned int __rsp = RING_SIZE(_r) - ((_r)->req_cons - (_r)->rsp_prod_pvt); \
    __req < __rsp ? __req : __rsp;                                            \
})

#define RING_GET_REQUEST(_r, _idx) (&((_r)->sring->ring[(_idx) & (RING_SIZE(_r) - 1)].req))
#define RING_GET_RESPONSE(_r, _idx) (&((_r)->sring->ring[(_idx) & (RING_SIZE(_r) - 1)].rsp))
/* Snapshot a request into private memory before using it: the peer can still write the slot. */
#define RING_COPY_REQUEST(_r, _idx, _req) do {                                \
    *(_req) = *RING_GET_REQUEST(_r, _idx);                                    \
    __asm__ __volatile__("" ::: "memory");                                    \
} while (0)

#define RING_REQUEST_CONS_OVERFLOW(_r, _cons) (((_cons) - (_r)->rsp_prod_pvt) >= RING_SIZE(_r))
#define RING_REQUEST_PROD_OVERFLOW(_r, _prod) (((_prod) - (_r)->rsp_prod_pvt) > RING_SIZE(_r))
#define RING_RESPONSE_PROD_OVERFLOW(_r, _prod) (((_prod) - (_r)->rsp_cons) > RING_SIZE(_r))

#define RING_PUSH_REQUESTS(_r) do {                                           \
    xen_wmb();                                                                \
    (_r)->sring->req_prod = (_r)->req_prod_pvt;                               \
} while (0)
#define RING_PUSH_RESPONSES(_r) do {                                          \
    xen_wmb();                                                                \
    (_r)->sring->rsp_prod = (_r)->rsp_prod_pvt;                               \
} while (0)

/* Publish, then notify iff the peer's event index lies in (old, new]. */
#define RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(_r, _notify) do {                 \
    RING_IDX __old = (_r)->sring->req_prod;                                   \
    RING_IDX __new = (_r)->req_prod_pvt;                                      \
    xen_wmb();                                                                \
    (_r)->sring->req_prod = __new;                                            \
    xen_mb();                                                                 \
    (_notify) = ((RING_IDX)(__new - (_r)->sring->req_event) <                 \
                 (RING_IDX)(__new - __old));                                  \
} while (0)
#define RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(_r, _notify) do {                \
    RING_IDX __old = (_r)->sring->rsp_prod;                                   \
    RING_IDX __new = (_r)->rsp_prod_pvt;                                      \
    xen_wmb();                                                                \
    (_r)->sring->rsp_prod = __new;                                            \
    xen_mb();                                                                 \
    (_notify) = ((RING_IDX)(__new - (_r)->sring->rsp_event) <                 \
                 (RING_IDX)(__new - __old));                                  \
} while (0)

/* After draining: re-arm the event index, then look once more (closes the race with the peer). */
#define RING_FINAL_CHECK_FOR_REQUESTS(_r, _work_to_do) do {                   \
    (_work_to_do) = RING_HAS_UNCONSUMED_REQUESTS(_r);                         \
    if (_work_to_do) break;                                                   \
    (_r)->sring->req_event = (_r)->req_cons + 1;                              \
    xen_mb();                                                                 \
    (_work_to_do) = RING_HAS_UNCONSUMED_REQUESTS(_r);                         \
} while (0)
#define RING_FINAL_CHECK_FOR_RESPONSES(_r, _work_to_do) do {                  \
    (_work_to_do) = RING_HAS_UNCONSUMED_RESPONSES(_r);                        \
    if (_work_to_do) break;                                                   \
    (_r)->sring->rsp_event = (_r)->rsp_cons + 1;                              \
    xen_mb();                                                                 \
    (_work_to_do) = RING_HAS_UNCONSUMED_RESPONSES(_r);                        \
} while (0)
#endif /* !__ASSEMBLY__ */
