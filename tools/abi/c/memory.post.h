/* mem_flags encoders/decoders. */
#define XENMEMF_address_bits(x)     ((x) & XENMEMF_address_bits_mask)
#define XENMEMF_get_address_bits(x) ((x) & XENMEMF_address_bits_mask)
#define XENMEMF_node(x)             ((((x) + 1) & 0xff) << XENMEMF_node_shift)
#define XENMEMF_get_node(x)         ((((x) >> XENMEMF_node_shift) & 0xff) - 1)
