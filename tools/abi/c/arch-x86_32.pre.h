#ifndef __ASSEMBLY__
#include <stdint.h>
#endif

/* 64-bit constants: a plain number in assembly, unsigned long long in C. */
#ifdef __ASSEMBLY__
#define xen_mk_ullong(x) x
#else
#define xen_mk_ullong(x) x##ULL
#endif

/* Layout checks need C11 _Static_assert; older compilers skip them. */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define XEN_ABI_ASSERT(e) _Static_assert(e, #e)
#elif !defined(XEN_ABI_NO_ASSERTS)
#define XEN_ABI_NO_ASSERTS
#endif

#ifndef __ASSEMBLY__
/*
 * Guest handles. On x86_32 a handle is a plain 4-byte pointer; the typedef per type keeps
 * Xen's spelling (XEN_GUEST_HANDLE(xen_pfn_t), set_xen_guest_handle(h, p)).
 */
#define ___DEFINE_XEN_GUEST_HANDLE(name, type) typedef type *__guest_handle_##name
#define __DEFINE_XEN_GUEST_HANDLE(name, type) \
    ___DEFINE_XEN_GUEST_HANDLE(name, type); \
    ___DEFINE_XEN_GUEST_HANDLE(const_##name, const type)
#define DEFINE_XEN_GUEST_HANDLE(name) __DEFINE_XEN_GUEST_HANDLE(name, name)
#define __XEN_GUEST_HANDLE(name) __guest_handle_##name
#define XEN_GUEST_HANDLE(name) __XEN_GUEST_HANDLE(name)
#define XEN_GUEST_HANDLE_PARAM(name) XEN_GUEST_HANDLE(name)
#define set_xen_guest_handle_raw(hnd, val) do { (hnd) = (val); } while (0)
#define set_xen_guest_handle(hnd, val) set_xen_guest_handle_raw(hnd, val)
#define get_xen_guest_handle(val, hnd) do { (val) = (hnd); } while (0)

__DEFINE_XEN_GUEST_HANDLE(uchar, unsigned char);
__DEFINE_XEN_GUEST_HANDLE(uint, unsigned int);
__DEFINE_XEN_GUEST_HANDLE(ulong, unsigned long);
DEFINE_XEN_GUEST_HANDLE(char);
DEFINE_XEN_GUEST_HANDLE(int);
DEFINE_XEN_GUEST_HANDLE(long);
DEFINE_XEN_GUEST_HANDLE(void);
DEFINE_XEN_GUEST_HANDLE(uint8_t);
DEFINE_XEN_GUEST_HANDLE(uint16_t);
DEFINE_XEN_GUEST_HANDLE(uint32_t);
DEFINE_XEN_GUEST_HANDLE(uint64_t);
#endif /* !__ASSEMBLY__ */
