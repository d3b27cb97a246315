/**
 * src/devices: device models (UART, PIC, PIT, RTC, LAPIC, IOAPIC, PCI, IDE, NIC, VGA text,
 * PS/2, the Xen platform PCI device) on the small bus interfaces of src/hw. Hardware: knows
 * nothing of Xen; used by the physical platform and by dom0's HVM device model.
 */
export const DEVICES_LAYER = 'devices';
