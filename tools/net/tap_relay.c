/*
 * tap_relay: attach a Linux TAP device to a parent process over a pipe.
 *
 *   tap_relay IFNAME
 *
 * Creates (or attaches to) the TAP interface IFNAME (IFF_TAP | IFF_NO_PI: whole Ethernet
 * frames, no packet-info prefix), prints "ready IFNAME\n" on stderr, then relays frames:
 *   TAP -> stdout   each frame as a 2-byte big-endian length, then the frame
 *   stdin -> TAP    the same framing
 * It exits when stdin reaches end of file (the parent went away) or on any I/O error; a
 * non-persistent TAP device disappears with it. Frames over 65535 bytes cannot occur on a
 * TAP without offloads; a zero or oversized length on stdin is a protocol error (exit 3).
 *
 * The interface may be moved to another network namespace (ip link set IFNAME netns NS)
 * while this process holds it: the file descriptor stays attached.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static unsigned char tap_buf[65536 + 2];
static unsigned char in_buf[65536 + 2];
static size_t in_len;

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2 || strlen(argv[1]) >= IFNAMSIZ) {
		fprintf(stderr, "usage: tap_relay IFNAME (at most %d characters)\n", IFNAMSIZ - 1);
		return 2;
	}
	int tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tap < 0) {
		perror("tap_relay: open /dev/net/tun");
		return 1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
	if (ioctl(tap, TUNSETIFF, &ifr) < 0) {
		perror("tap_relay: TUNSETIFF");
		return 1;
	}
	fprintf(stderr, "ready %s\n", ifr.ifr_name);

	struct pollfd fds[2] = { { .fd = tap, .events = POLLIN }, { .fd = 0, .events = POLLIN } };
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("tap_relay: poll");
			return 1;
		}
		if (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) {
			ssize_t n = read(tap, tap_buf + 2, sizeof tap_buf - 2);
			if (n < 0 && errno != EINTR && errno != EAGAIN) {
				perror("tap_relay: read tap");
				return 1;
			}
			if (n > 0) {
				tap_buf[0] = (unsigned char)(n >> 8);
				tap_buf[1] = (unsigned char)n;
				if (write_all(1, tap_buf, (size_t)n + 2) < 0)
					return 0; /* parent gone */
			}
		}
		if (fds[1].revents & (POLLIN | POLLERR | POLLHUP)) {
			ssize_t n = read(0, in_buf + in_len, sizeof in_buf - in_len);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return 1;
			}
			if (n == 0)
				return 0;
			in_len += (size_t)n;
			size_t off = 0;
			while (in_len - off >= 2) {
				size_t flen = ((size_t)in_buf[off] << 8) | in_buf[off + 1];
				if (flen == 0) {
					fprintf(stderr, "tap_relay: zero-length frame on stdin\n");
					return 3;
				}
				if (in_len - off - 2 < flen)
					break;
				/* A failed write is a dropped frame, like a full NIC queue (e.g. the link is down). */
				(void)!write(tap, in_buf + off + 2, flen);
				off += 2 + flen;
			}
			memmove(in_buf, in_buf + off, in_len - off);
			in_len -= off;
		}
	}
}
