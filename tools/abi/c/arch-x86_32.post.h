/* trap_info.flags accessors. */
#define TI_GET_DPL(_ti)       ((_ti)->flags & TI_DPL_MASK)
#define TI_GET_IF(_ti)        ((_ti)->flags & TI_IF_FLAG)
#define TI_SET_DPL(_ti, _dpl) ((_ti)->flags |= (_dpl) & TI_DPL_MASK)
#define TI_SET_IF(_ti, _if)   ((_ti)->flags |= (!!(_if)) << 2)

/* CR3 packing of a PAE frame number: a 32-bit rotate by 12 (frames above 4 GiB fit). */
#define xen_pfn_to_cr3(pfn) (((unsigned int)(pfn) << 12) | ((unsigned int)(pfn) >> 20))
#define xen_cr3_to_pfn(cr3) (((unsigned int)(cr3) >> 12) | ((unsigned int)(cr3) << 20))
