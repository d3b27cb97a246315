#ifndef __ASSEMBLY__
/* Byte index within a xenstore ring: MASK_XENSTORE_IDX(prod). */
#define MASK_XENSTORE_IDX(idx) ((idx) & (XENSTORE_RING_SIZE - 1))

/* Error names in Xen's table order (the index is ABI: entry 0, EINVAL, is the fallback). */
struct xsd_errors {
    int errnum;
    const char *errstring;
};
#define XSD_ERROR(x) { XEN_##x, #x }
static const struct xsd_errors xsd_errors[] __attribute__((unused)) = {
    XSD_ERROR(EINVAL), XSD_ERROR(EACCES), XSD_ERROR(EEXIST), XSD_ERROR(EISDIR),
    XSD_ERROR(ENOENT), XSD_ERROR(ENOMEM), XSD_ERROR(ENOSPC), XSD_ERROR(EIO),
    XSD_ERROR(ENOTEMPTY), XSD_ERROR(ENOSYS), XSD_ERROR(EROFS), XSD_ERROR(EBUSY),
    XSD_ERROR(EAGAIN), XSD_ERROR(EISCONN), XSD_ERROR(E2BIG), XSD_ERROR(EPERM),
};
#endif /* !__ASSEMBLY__ */
