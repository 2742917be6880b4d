/* The plain C reference for xdpgate's AF_PACKET port: one TPACKET_V3 socket set up as the port sets up its
 * sockets (src/XdpGate.Linux/AfPacket, src/XdpGate.Appliance/Ports/AfPacket), counting frames (drop) or bouncing
 * them with the Ethernet addresses swapped through a TX ring (tx). `xdpgate bench --reference DIR` runs it.
 * Build: gcc -O2 -o tpacket_loop tpacket_loop.c */
#include "loop_common.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

/* The port's geometry: its RX ring holds 2048 frames of 4096 bytes in 1 MiB blocks, its TX ring 2048 page-sized
 * slots, and it keeps XDP's 256 bytes of headroom in front of each received frame. */
#define RX_BLOCK_SIZE (1u << 20)
#define RX_BLOCK_NR 8u
#define RX_BLOCK_TIMEOUT_MS 2u
#define RX_RESERVE 256u
#define TX_FRAME_NR 2048u

struct tx_ring {
	uint8_t *base;
	unsigned int frame_size;
	unsigned int head;
};

struct port {
	int fd;
	uint8_t *map;
	size_t map_size;
	struct tpacket_block_desc *blocks[RX_BLOCK_NR];
	struct tx_ring tx;
};

static int set_int(int fd, int option, int value, const char *call)
{
	if (setsockopt(fd, SOL_PACKET, option, &value, sizeof(value))) {
		loop_error(call, errno);
		return -1;
	}
	return 0;
}

/* The kernel's order: version, reserve and loss before the rings (EBUSY after), rings before mmap, then bind. */
static int port_open(struct port *p, const struct loop_options *o)
{
	long page = sysconf(_SC_PAGESIZE);
	struct tpacket_req3 rx = {
		.tp_block_size = RX_BLOCK_SIZE,
		.tp_block_nr = RX_BLOCK_NR,
		/* V3 packs frames of any size into a block; the kernel only checks frame_size * frame_nr. */
		.tp_frame_size = RX_BLOCK_SIZE,
		.tp_frame_nr = RX_BLOCK_NR,
		.tp_retire_blk_tov = RX_BLOCK_TIMEOUT_MS,
	};
	struct tpacket_req3 tx = {
		.tp_block_size = (unsigned int)page,
		.tp_block_nr = TX_FRAME_NR,
		.tp_frame_size = (unsigned int)page,
		.tp_frame_nr = TX_FRAME_NR,
	};
	unsigned int ifindex = if_nametoindex(o->iface);
	struct sockaddr_ll address = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct packet_mreq promisc = { .mr_type = PACKET_MR_PROMISC };
	size_t rx_bytes = (size_t)rx.tp_block_size * rx.tp_block_nr;

	if (!ifindex) {
		loop_error("if_nametoindex", errno);
		return -1;
	}
	/* Protocol 0: nothing arrives before bind names the interface. */
	p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		loop_error("socket(AF_PACKET, SOCK_RAW)", errno);
		return -1;
	}
	if (set_int(p->fd, PACKET_VERSION, TPACKET_V3, "setsockopt(PACKET_VERSION, TPACKET_V3)") ||
	    set_int(p->fd, PACKET_RESERVE, RX_RESERVE, "setsockopt(PACKET_RESERVE)") ||
	    (o->tx && set_int(p->fd, PACKET_LOSS, 1, "setsockopt(PACKET_LOSS)")))
		return -1;
	if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &rx, sizeof(rx))) {
		loop_error("setsockopt(PACKET_RX_RING)", errno);
		return -1;
	}
	p->map_size = rx_bytes;
	if (o->tx) {
		if (set_int(p->fd, PACKET_QDISC_BYPASS, 1, "setsockopt(PACKET_QDISC_BYPASS)"))
			return -1;
		if (setsockopt(p->fd, SOL_PACKET, PACKET_TX_RING, &tx, sizeof(tx))) {
			loop_error("setsockopt(PACKET_TX_RING)", errno);
			return -1;
		}
		p->map_size += (size_t)tx.tp_block_size * tx.tp_block_nr;
	}
	p->map = mmap(NULL, p->map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, p->fd, 0);
	if (p->map == MAP_FAILED) {
		p->map = NULL;
		loop_error("mmap(packet rings)", errno);
		return -1;
	}
	for (unsigned int i = 0; i < RX_BLOCK_NR; i++)
		p->blocks[i] = (struct tpacket_block_desc *)(p->map + (size_t)i * RX_BLOCK_SIZE);
	/* The kernel maps the TX ring right after the RX ring. */
	p->tx = (struct tx_ring){ .base = p->map + rx_bytes, .frame_size = tx.tp_frame_size };
	if (set_int(p->fd, PACKET_IGNORE_OUTGOING, 1, "setsockopt(PACKET_IGNORE_OUTGOING)"))
		return -1;
	address.sll_ifindex = (int)ifindex;
	if (bind(p->fd, (struct sockaddr *)&address, sizeof(address))) {
		loop_error("bind(AF_PACKET)", errno);
		return -1;
	}
	promisc.mr_ifindex = (int)ifindex;
	if (setsockopt(p->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &promisc, sizeof(promisc))) {
		loop_error("setsockopt(PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC)", errno);
		return -1;
	}
	return 0;
}

static void port_close(struct port *p)
{
	if (p->map)
		munmap(p->map, p->map_size);
	if (p->fd >= 0)
		close(p->fd);
}

/* Copies a frame into the next TX slot; 0 when the kernel still holds that slot (the frame is then dropped, as
 * the port drops it). Without PACKET_TX_HAS_OFF the kernel reads the frame right after the aligned header. */
static int tx_enqueue(struct tx_ring *tx, const uint8_t *frame, unsigned int len)
{
	struct tpacket3_hdr *slot = (struct tpacket3_hdr *)(tx->base + (size_t)tx->head * tx->frame_size);
	uint32_t status = __atomic_load_n(&slot->tp_status, __ATOMIC_ACQUIRE);
	uint8_t *data = (uint8_t *)slot + TPACKET_ALIGN(sizeof(struct tpacket3_hdr));

	/* PACKET_LOSS: a frame the kernel refused as malformed leaves its slot reusable. */
	if (status != TP_STATUS_AVAILABLE && !(status & TP_STATUS_WRONG_FORMAT))
		return 0;
	if (len < 12 || len > tx->frame_size - TPACKET_ALIGN(sizeof(struct tpacket3_hdr)))
		return 0;
	memcpy(data, frame, len);
	loop_swap_macs(data);
	slot->tp_len = len;
	slot->tp_snaplen = len;
	slot->tp_next_offset = 0;
	__atomic_store_n(&slot->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
	tx->head = tx->head + 1 == TX_FRAME_NR ? 0 : tx->head + 1;
	return 1;
}

/* Asks the kernel to send the queued frames; busy (EAGAIN, ENOBUFS) leaves them for the next kick. */
static void tx_kick(int fd, uint64_t *kick_errors)
{
	if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0 || errno == EAGAIN || errno == ENOBUFS)
		return;
	/* The first failure is named; the count at the end says how many followed. */
	if (!(*kick_errors)++)
		loop_error("sendto(TX ring kick)", errno);
}

static int run(struct port *p, const struct loop_options *o, volatile uint64_t *counter)
{
	uint64_t deadline = loop_deadline_ns(o), frames = 0, tx_full = 0, kick_errors = 0;
	unsigned int current = 0, queued = 0;
	struct pollfd wait = { .fd = p->fd, .events = POLLIN | POLLERR };
	int timeout;

	while ((timeout = loop_poll_ms(deadline)) >= 0) {
		struct tpacket_block_desc *block = p->blocks[current];
		struct tpacket3_hdr *frame;
		uint32_t count;

		if (!(__atomic_load_n(&block->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
			if (queued) {
				tx_kick(p->fd, &kick_errors);
				queued = 0;
			}
			if (poll(&wait, 1, timeout) < 0 && errno != EINTR) {
				loop_error("poll", errno);
				return -1;
			}
			continue;
		}
		count = block->hdr.bh1.num_pkts;
		frame = (struct tpacket3_hdr *)((uint8_t *)block + block->hdr.bh1.offset_to_first_pkt);
		for (uint32_t i = 0; i < count; i++) {
			if (o->tx) {
				if (tx_enqueue(&p->tx, (uint8_t *)frame + frame->tp_mac, frame->tp_snaplen))
					queued++;
				else
					tx_full++;
				if (queued == LOOP_BATCH) {
					tx_kick(p->fd, &kick_errors);
					queued = 0;
				}
			}
			if (++frames % LOOP_BATCH == 0)
				loop_store_count(counter, frames);
			frame = (struct tpacket3_hdr *)((uint8_t *)frame + frame->tp_next_offset);
		}
		/* Release: done reading the block's frames before the kernel may overwrite them. */
		__atomic_store_n(&block->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		current = (current + 1) % RX_BLOCK_NR;
		if (queued) {
			tx_kick(p->fd, &kick_errors);
			queued = 0;
		}
		loop_store_count(counter, frames);
	}
	loop_report_end(o, frames, tx_full, kick_errors);
	return kick_errors ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct loop_options o;
	struct port p = { .fd = -1 };
	volatile uint64_t *counter;
	int status = 1;

	loop_parse(argc, argv, &o);
	if (loop_setup_process(&o) || !(counter = loop_open_counter(o.counter)))
		return 1;
	if (!port_open(&p, &o)) {
		loop_report_ready(&o);
		status = run(&p, &o, counter) ? 1 : 0;
	}
	port_close(&p);
	return status;
}
