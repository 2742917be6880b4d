/* The plain C reference for xdpgate's AF_XDP port: one copy-mode socket on queue 0 through libxdp's xsk API, with
 * the port's geometry (src/XdpGate.Appliance/Ports/AfXdp), counting frames (drop: each chunk straight back to the
 * fill ring) or bouncing them in place with the Ethernet addresses swapped (tx). libxdp attaches its own redirect
 * program and removes it in xsk_socket__delete. `xdpgate bench --reference DIR` runs it.
 * Build: gcc -O2 -o xsk_loop xsk_loop.c -lxdp -lbpf */
#include "loop_common.h"

#include <linux/if_xdp.h>
#include <poll.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

/* As the port: rings of 2048, a UMEM of twice that in 4096-byte chunks, so the fill ring stays full while frames
 * wait in the TX ring. */
#define RING_SIZE 2048u
#define FRAME_SIZE 4096u
#define FRAME_NR (2 * RING_SIZE)
/* How long to wait for the queue to be free: 40 x 50 ms. */
#define BUSY_RETRIES 40
#define BUSY_RETRY_US 50000

struct port {
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons completion, rx;
	uint64_t free_chunks[FRAME_NR];
	unsigned int free_count;
};

static int port_open(struct port *p, const struct loop_options *o)
{
	const struct xsk_umem_config umem_config = {
		.fill_size = RING_SIZE,
		.comp_size = RING_SIZE,
		.frame_size = FRAME_SIZE,
		.frame_headroom = XSK_UMEM__DEFAULT_FRAME_HEADROOM,
		.flags = XSK_UMEM__DEFAULT_FLAGS,
	};
	/* libxdp_flags 0: libxdp loads and attaches its redirect program (native XDP where the driver has it).
	 * XDP_COPY: the mode under study; XDP_USE_NEED_WAKEUP as the port binds. */
	const struct xsk_socket_config socket_config = {
		.rx_size = RING_SIZE,
		.tx_size = RING_SIZE,
		.libxdp_flags = 0,
		.xdp_flags = 0,
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	int err;

	p->area = mmap(NULL, (size_t)FRAME_NR * FRAME_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p->area == MAP_FAILED) {
		p->area = NULL;
		loop_error("mmap(UMEM)", errno);
		return -1;
	}
	err = xsk_umem__create(&p->umem, p->area, (uint64_t)FRAME_NR * FRAME_SIZE, &p->fill, &p->completion, &umem_config);
	if (err) {
		p->umem = NULL;
		loop_error("xsk_umem__create", -err);
		return -1;
	}
	/* A socket closed on this queue just before (the previous bench row) is freed by the kernel a moment later and
	 * holds the queue until then (EBUSY): wait for it, boundedly. */
	for (int attempt = 0; attempt < BUSY_RETRIES; attempt++) {
		err = xsk_socket__create(&p->xsk, o->iface, 0, p->umem, &p->rx, &p->tx, &socket_config);
		if (err != -EBUSY)
			break;
		usleep(BUSY_RETRY_US);
	}
	if (err) {
		p->xsk = NULL;
		loop_error("xsk_socket__create(queue 0)", -err);
		return -1;
	}
	for (unsigned int i = 0; i < FRAME_NR; i++)
		p->free_chunks[p->free_count++] = (uint64_t)i * FRAME_SIZE;
	return 0;
}

static void port_close(struct port *p)
{
	/* The socket first: it holds the UMEM, and deleting it detaches libxdp's program. */
	if (p->xsk)
		xsk_socket__delete(p->xsk);
	if (p->umem)
		xsk_umem__delete(p->umem);
	if (p->area)
		munmap(p->area, (size_t)FRAME_NR * FRAME_SIZE);
}

/* Keeps the fill ring full from the free chunks: receiving comes first. */
static void refill(struct port *p)
{
	uint32_t index, room = xsk_prod_nb_free(&p->fill, RING_SIZE);

	if (room > p->free_count)
		room = p->free_count;
	if (!room || xsk_ring_prod__reserve(&p->fill, room, &index) != room)
		return;
	for (uint32_t i = 0; i < room; i++)
		*xsk_ring_prod__fill_addr(&p->fill, index + i) = p->free_chunks[--p->free_count];
	xsk_ring_prod__submit(&p->fill, room);
}

/* Finished transmissions give their chunks back. */
static void reap(struct port *p)
{
	uint32_t index, done = xsk_ring_cons__peek(&p->completion, RING_SIZE, &index);

	for (uint32_t i = 0; i < done; i++)
		p->free_chunks[p->free_count++] = *xsk_ring_cons__comp_addr(&p->completion, index + i) & ~(uint64_t)(FRAME_SIZE - 1);
	if (done)
		xsk_ring_cons__release(&p->completion, done);
}

/* Copy mode sends at most a few dozen descriptors per kick and says EAGAIN while more are left: kick until the
 * kernel has taken them all, stopping when a kick takes nothing (device busy), so the loop is bounded. */
static void kick(struct port *p, uint64_t *kick_errors)
{
	uint32_t left = RING_SIZE - xsk_prod_nb_free(&p->tx, RING_SIZE);

	while (left) {
		uint32_t now;

		if (sendto(xsk_socket__fd(p->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS) {
			/* The first failure is named; the count at the end says how many followed. */
			if (!(*kick_errors)++)
				loop_error("sendto(TX kick)", errno);
			return;
		}
		now = RING_SIZE - xsk_prod_nb_free(&p->tx, RING_SIZE);
		if (now >= left)
			return;
		left = now;
	}
}

static int run(struct port *p, const struct loop_options *o, volatile uint64_t *counter)
{
	uint64_t deadline = loop_deadline_ns(o), frames = 0, tx_full = 0, kick_errors = 0;
	struct pollfd wait = { .fd = xsk_socket__fd(p->xsk), .events = POLLIN };
	int timeout;

	refill(p);
	loop_report_ready(o);
	while ((timeout = loop_poll_ms(deadline)) >= 0) {
		uint32_t rx_index, tx_index = 0, sent = 0;
		uint32_t received = xsk_ring_cons__peek(&p->rx, LOOP_BATCH, &rx_index);

		if (!received) {
			if (xsk_ring_prod__needs_wakeup(&p->fill))
				recvfrom(xsk_socket__fd(p->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
			if (poll(&wait, 1, timeout) < 0 && errno != EINTR) {
				loop_error("poll", errno);
				return -1;
			}
			continue;
		}
		if (o->tx)
			sent = xsk_ring_prod__reserve(&p->tx, received, &tx_index) ? received : 0;
		for (uint32_t i = 0; i < received; i++) {
			const struct xdp_desc *desc = xsk_ring_cons__rx_desc(&p->rx, rx_index + i);

			if (sent) {
				struct xdp_desc *out = xsk_ring_prod__tx_desc(&p->tx, tx_index + i);

				/* Even a runt frame lies in a whole chunk, so the swap stays inside our memory. */
				loop_swap_macs(xsk_umem__get_data(p->area, desc->addr));
				out->addr = desc->addr;
				out->len = desc->len;
				out->options = 0;
			} else {
				tx_full += o->tx;
				p->free_chunks[p->free_count++] = desc->addr & ~(uint64_t)(FRAME_SIZE - 1);
			}
		}
		xsk_ring_cons__release(&p->rx, received);
		if (sent) {
			xsk_ring_prod__submit(&p->tx, sent);
			kick(p, &kick_errors);
			reap(p);
		}
		refill(p);
		frames += received;
		loop_store_count(counter, frames);
	}
	loop_report_end(o, frames, tx_full, kick_errors);
	return kick_errors ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct loop_options o;
	static struct port p;
	volatile uint64_t *counter;
	int status = 1;

	loop_parse(argc, argv, &o);
	if (loop_setup_process(&o) || !(counter = loop_open_counter(o.counter)))
		return 1;
	if (!port_open(&p, &o))
		status = run(&p, &o, counter) ? 1 : 0;
	port_close(&p);
	return status;
}
