/*
 * The PC's interrupt hardware as bare-metal kernels use it: the two cascaded 8259A PICs
 * (remapped so IRQ 0-15 arrive at vectors PIC_BASE..PIC_BASE+15, clear of exceptions)
 * and channel 0 of the 8254 PIT, which drives IRQ 0.
 */
#ifndef BARE_PIC_H
#define BARE_PIC_H
#include <stdint.h>

#define PIC_BASE 0x20
#define PIT_HZ 1193182u

/* ICW1-4 on both PICs; every IRQ masked afterwards. */
void pic_init(void);
/* Mask: bit n set = IRQ n masked (0-15; bit 2 is the cascade and stays clear on need). */
void pic_set_mask(uint16_t mask);
uint16_t pic_get_mask(void);
void pic_eoi(int irq);
uint16_t pic_read_irr(void);
uint16_t pic_read_isr(void);
/* Channel 0, mode 2 (rate generator), reload value count (1..65536 as 0). */
void pit_periodic(uint16_t count);
/* Channel 0, mode 0 (interrupt on terminal count): one IRQ 0 after count ticks. */
void pit_oneshot(uint16_t count);
/* Latched read of channel 0's current count. */
uint16_t pit_read(void);
#endif
