/* 8259A PIC pair and 8254 PIT channel 0 (see pic.h). Port numbers are the PC's. */
#include "bare/pic.h"
#include "bare/bare.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIT_CH0 0x40
#define PIT_CMD 0x43

void pic_init(void)
{
    outb(PIC1_CMD, 0x11); /* ICW1: edge, cascade, ICW4 follows */
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, PIC_BASE);     /* ICW2: vector base */
    outb(PIC2_DATA, PIC_BASE + 8);
    outb(PIC1_DATA, 0x04); /* ICW3: slave on IRQ 2 */
    outb(PIC2_DATA, 0x02); /* ICW3: slave identity 2 */
    outb(PIC1_DATA, 0x01); /* ICW4: 8086 mode, normal EOI */
    outb(PIC2_DATA, 0x01);
    pic_set_mask(0xffff);
}

void pic_set_mask(uint16_t mask)
{
    outb(PIC1_DATA, (uint8_t)mask);
    outb(PIC2_DATA, (uint8_t)(mask >> 8));
}

uint16_t pic_get_mask(void) { return (uint16_t)(inb(PIC1_DATA) | (inb(PIC2_DATA) << 8)); }

void pic_eoi(int irq)
{
    if (irq >= 8) outb(PIC2_CMD, 0x20);
    outb(PIC1_CMD, 0x20);
}

static uint16_t pic_read_reg(uint8_t ocw3)
{
    outb(PIC1_CMD, ocw3);
    outb(PIC2_CMD, ocw3);
    return (uint16_t)(inb(PIC1_CMD) | (inb(PIC2_CMD) << 8));
}

uint16_t pic_read_irr(void) { return pic_read_reg(0x0a); }
uint16_t pic_read_isr(void) { return pic_read_reg(0x0b); }

void pit_periodic(uint16_t count)
{
    outb(PIT_CMD, 0x34); /* channel 0, lobyte/hibyte, mode 2, binary */
    outb(PIT_CH0, (uint8_t)count);
    outb(PIT_CH0, (uint8_t)(count >> 8));
}

void pit_oneshot(uint16_t count)
{
    outb(PIT_CMD, 0x30); /* channel 0, lobyte/hibyte, mode 0 */
    outb(PIT_CH0, (uint8_t)count);
    outb(PIT_CH0, (uint8_t)(count >> 8));
}

uint16_t pit_read(void)
{
    outb(PIT_CMD, 0x00); /* latch channel 0 */
    uint8_t lo = inb(PIT_CH0);
    return (uint16_t)(lo | (inb(PIT_CH0) << 8));
}
