/* Network commands: net (info / serve), ping, udp (send / echo test). */
#include "minios/shell/shell.h"
#include "minios/kernel/sched.h"
#include "minios/drivers/netfront.h"
#include "minios/net/net.h"
#include "minios/xen/xenbus.h"

static int need_net(const char *what)
{
    if (net_configured()) return 0;
    printk("FAIL %s: network not configured (no vif connected or no ip=)\n", what);
    return -1;
}

static int arg_ip(const char *s, uint32_t *ip)
{
    if (parse_ipv4(s, ip)) {
        printk("FAIL bad IPv4 address \"%s\"\n", s);
        return -1;
    }
    return 0;
}

static void print_stats(const char *prefix)
{
    char ip[16];
    ip_to_str(net_ip, ip);
    printk("%s mac=%02x:%02x:%02x:%02x:%02x:%02x ip=%s mode=%s tx=%llu rx=%llu tx_err=%llu "
           "rx_err=%llu flips=%llu arp_rx=%u icmp_answered=%u udp_echoed=%u ip_dropped=%u "
           "csum_err=%u\n",
           prefix, netfront_mac[0], netfront_mac[1], netfront_mac[2], netfront_mac[3],
           netfront_mac[4], netfront_mac[5], ip, netfront_flip_mode ? "flip" : "copy",
           (unsigned long long)net_stats.tx_packets, (unsigned long long)net_stats.rx_packets,
           (unsigned long long)net_stats.tx_errors, (unsigned long long)net_stats.rx_errors,
           (unsigned long long)net_stats.rx_flips, ip_stats.arp_rx, ip_stats.icmp_echo_answered,
           ip_stats.udp_echoed, ip_stats.ip_dropped, ip_stats.csum_errors);
}

static int do_net(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "info";
    if (!strcmp(sub, "info")) {
        if (!netfront_connected()) return cmd_fail("net info", "no vif connected");
        print_stats("OK net info");
        return CMD_OK;
    }
    if (!strcmp(sub, "serve")) {
        uint64_t secs = 10;
        if (argc > 3 || (argc == 3 && arg_u64(argv[2], "seconds", &secs))) return CMD_FAIL;
        if (need_net("net serve")) return CMD_FAIL;
        uint32_t icmp0 = ip_stats.icmp_echo_answered, udp0 = ip_stats.udp_echoed;
        printk("NET serving for %llu s\n", (unsigned long long)secs);
        sleep_ns(secs * NSEC_PER_SEC);
        printk("OK net serve secs=%llu icmp_answered=%u udp_echoed=%u\n", (unsigned long long)secs,
               ip_stats.icmp_echo_answered - icmp0, ip_stats.udp_echoed - udp0);
        return CMD_OK;
    }
    if (!strcmp(sub, "wait")) {           /* for a hot-plugged (or replugged) vif, or its unplug */
        int gone = argc > 2 && !strcmp(argv[2], "gone");
        uint64_t secs = 30;
        if (argc > 3 + gone || (argc == 3 + gone && arg_u64(argv[2 + gone], "seconds", &secs)))
            return cmd_fail("net wait", "usage: net wait [gone] [SECS]");
        uint64_t t0 = now_ns();
        if (netfront_wait(!gone, secs * NSEC_PER_SEC))
            return cmd_fail(gone ? "net wait gone" : "net wait", "vif still %s after %llu s",
                            gone ? "connected" : "not connected", (unsigned long long)secs);
        printk("OK net wait%s waited_ms=%llu\n", gone ? " gone" : "", (unsigned long long)((now_ns() - t0) / 1000000));
        return CMD_OK;
    }
    return cmd_fail("net", "usage: net [info | serve SECS | wait [gone] SECS]");
}

static int do_ping(int argc, char **argv)
{
    uint32_t dst, count = 3, size = 56;
    if (argc < 2 || argc > 4 || arg_ip(argv[1], &dst) || (argc > 2 && arg_u32(argv[2], "count", &count)) ||
        (argc > 3 && arg_u32(argv[3], "size", &size)))
        return cmd_fail("ping", "usage: ping IP [COUNT] [SIZE]");
    if (need_net("ping")) return CMD_FAIL;
    static uint16_t ident = 0x4d30;
    ident++;
    unsigned received = 0;
    uint64_t total = 0, best = ~0ULL, worst = 0;
    for (uint32_t seq = 1; seq <= count; seq++) {
        uint64_t rtt;
        int rc = net_ping(dst, ident, (uint16_t)seq, size, 2 * NSEC_PER_SEC, &rtt);
        if (rc == 0) {
            received++;
            total += rtt;
            best = MIN(best, rtt);
            worst = MAX(worst, rtt);
            printk("PING reply from %s seq=%u bytes=%u time_us=%llu\n", argv[1], seq, size + 8,
                   (unsigned long long)(rtt / 1000));
        } else {
            printk("PING no reply from %s seq=%u (%s)\n", argv[1], seq, xb_strerror(rc));
        }
        if (seq < count) sleep_ns(200 * NSEC_PER_MSEC);
    }
    if (!received) return cmd_fail("ping", "%s: sent=%u received=0", argv[1], count);
    printk("%s ping %s sent=%u received=%u min_us=%llu avg_us=%llu max_us=%llu\n",
           received == count ? "OK" : "FAIL", argv[1], count, received,
           (unsigned long long)(best / 1000), (unsigned long long)(total / received / 1000),
           (unsigned long long)(worst / 1000));
    return received == count ? CMD_OK : CMD_FAIL;
}

static int do_udp(int argc, char **argv)
{
    uint32_t dst, port;
    if (argc >= 5 && !strcmp(argv[1], "send")) {
        if (arg_ip(argv[2], &dst) || arg_u32(argv[3], "port", &port) || port > 65535) return CMD_FAIL;
        if (need_net("udp send")) return CMD_FAIL;
        char msg[256];
        msg[0] = 0;
        for (int i = 4; i < argc; i++) {
            size_t l = strlen(msg);
            snprintf(msg + l, sizeof(msg) - l, "%s%s", i > 4 ? " " : "", argv[i]);
        }
        char reply[512];
        uint64_t rtt;
        int n = udp_request(dst, (uint16_t)port, msg, strlen(msg), reply, sizeof(reply) - 1,
                            2 * NSEC_PER_SEC, &rtt);
        if (n < 0) return cmd_fail("udp send", "%s:%u: %s", argv[2], port, xb_strerror(n));
        reply[n] = 0;
        for (int i = 0; i < n; i++)
            if (reply[i] < 0x20 || reply[i] > 0x7e) reply[i] = '.';
        printk("OK udp reply from %s:%u len=%d time_us=%llu data=\"%s\"\n", argv[2], port, n,
               (unsigned long long)(rtt / 1000), reply);
        return CMD_OK;
    }
    if (argc >= 4 && argc <= 6 && !strcmp(argv[1], "echo")) {
        uint32_t count = 10, size = 64;
        if (arg_ip(argv[2], &dst) || arg_u32(argv[3], "port", &port) || port > 65535 ||
            (argc > 4 && arg_u32(argv[4], "count", &count)) || (argc > 5 && arg_u32(argv[5], "size", &size)))
            return CMD_FAIL;
        if (size > 1024) return cmd_fail("udp echo", "size at most 1024");
        if (need_net("udp echo")) return CMD_FAIL;
        static uint8_t msg[1024], reply[1024];
        unsigned ok = 0;
        uint64_t total = 0;
        for (uint32_t i = 0; i < count; i++) {
            for (uint32_t k = 0; k < size; k++) msg[k] = (uint8_t)(k * 31 + i);
            uint64_t rtt;
            int n = udp_request(dst, (uint16_t)port, msg, size, reply, sizeof(reply), 2 * NSEC_PER_SEC, &rtt);
            if (n == (int)size && !memcmp(msg, reply, size)) {
                ok++;
                total += rtt;
            }
        }
        if (ok != count) return cmd_fail("udp echo", "%s:%u: %u of %u echoed intact", argv[2], port, ok, count);
        printk("OK udp echo %s:%u count=%u size=%u avg_us=%llu\n", argv[2], port, count, size,
               (unsigned long long)(total / count / 1000));
        return CMD_OK;
    }
    return cmd_fail("udp", "usage: udp send IP PORT TEXT... | udp echo IP PORT [COUNT] [SIZE]");
}

const struct command net_commands[] = {
    { "net", "[info|serve SECS|wait [gone] SECS]", "network state, answer ping/UDP echo for a while, or wait for a vif", do_net },
    { "ping", "IP [COUNT] [SIZE]", "ICMP echo", do_ping },
    { "udp", "send IP PORT TEXT|echo IP PORT [N] [SIZE]", "UDP request/response", do_udp },
    { 0, 0, 0, 0 },
};
