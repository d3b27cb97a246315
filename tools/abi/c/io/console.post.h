/* Byte index within a console buffer: MASK_XENCONS_IDX(idx, intf->out). */
#define MASK_XENCONS_IDX(idx, ring) ((idx) & (sizeof(ring) - 1))
