/*
 * Hostile: sched_op misuse. poll with more than 128 ports (-EINVAL), an unreadable port
 * list (-EFAULT), an invalid port (-EINVAL); shutdown and shutdown_code with an
 * unreadable argument (-EFAULT); remote shutdown of a domain that does not exist
 * (-ESRCH); the dom0-only pin override (-EPERM); a watchdog that does not exist
 * (-EINVAL); unknown commands of both forms (-ENOSYS).
 */
#include "lib/pvtest.h"

PVTEST("sched_hostile", "SUCCESS", 1, "", "SCHEDOP argument and permission errors");

void test_main(void)
{
    static evtchn_port_t ports[200];
    struct sched_poll poll;
    set_xen_guest_handle(poll.ports, ports);
    poll.nr_ports = 129;
    poll.timeout = 0;
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &poll), -XEN_EINVAL);
    poll.nr_ports = 0xffffffff;
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &poll), -XEN_EINVAL);
    set_xen_guest_handle(poll.ports, (evtchn_port_t *)0x100);
    poll.nr_ports = 1;
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &poll), -XEN_EFAULT);
    ports[0] = 5000;
    set_xen_guest_handle(poll.ports, ports);
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &poll), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, (void *)0x100), -XEN_EFAULT);

    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_shutdown, (void *)0x100), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_shutdown_code, (void *)0x100), -XEN_EFAULT);
    struct sched_remote_shutdown rs = { .domain_id = 31000, .reason = SHUTDOWN_poweroff };
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), -XEN_ESRCH);
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, (void *)0x100), -XEN_EFAULT);

    /* Refused before the argument is read. */
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_pin_override, 0), -XEN_EPERM);
    struct sched_watchdog wd = { .id = 77, .timeout = 0 };
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_watchdog, &wd), -XEN_EINVAL);

    CHECK_EQ(HYPERVISOR_sched_op(99, 0), -XEN_ENOSYS);
    CHECK_EQ(HYPERVISOR_sched_op(0x7fffffff, 0), -XEN_ENOSYS);
    CHECK_EQ(HYPERVISOR_sched_op_compat(SCHEDOP_remote_shutdown, 0), -XEN_ENOSYS);
    /* Still scheduled normally. */
    CHECK_EQ(xen_yield(), 0);
}
