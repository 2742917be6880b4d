/* What both reference loops share: options, CPU pinning, the counter file, stopping, errors.
 * Static functions in a header so each loop stays one file to compile, with no library of our own. */
#ifndef XDPGATE_LOOP_COMMON_H
#define XDPGATE_LOOP_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Frames handled between two counter stores and TX kicks: the appliance's worker batch. */
#define LOOP_BATCH 64
/* The longest poll() sleep, so a stop request or the deadline is noticed soon. */
#define LOOP_POLL_MS 100

struct loop_options {
	const char *iface;
	int tx;
	int cpu;
	double duration;
	const char *counter;
};

static const char *loop_name;
static volatile sig_atomic_t loop_stop_requested;

/* An error in a call: names it and errno; the caller cleans up and exits non-zero. */
static void loop_error(const char *call, int err)
{
	fprintf(stderr, "%s: %s failed: %s (errno %d)\n", loop_name, call, strerror(err), err);
}

static void loop_usage(const char *why)
{
	fprintf(stderr, "%s: %s\nusage: %s --iface IF --mode drop|tx --cpu N --duration SECONDS --counter FILE\n",
		loop_name, why, loop_name);
	exit(2);
}

static void loop_parse(int argc, char **argv, struct loop_options *o)
{
	char *end;
	int mode_given = 0;

	loop_name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	memset(o, 0, sizeof(*o));
	o->cpu = -1;
	for (int i = 1; i < argc; i += 2) {
		const char *name = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;

		if (!value)
			loop_usage("an option without a value");
		if (!strcmp(name, "--iface")) {
			o->iface = value;
		} else if (!strcmp(name, "--mode")) {
			if (strcmp(value, "drop") && strcmp(value, "tx"))
				loop_usage("--mode must be drop or tx");
			o->tx = !strcmp(value, "tx");
			mode_given = 1;
		} else if (!strcmp(name, "--cpu")) {
			long cpu = strtol(value, &end, 10);

			if (*end || end == value || cpu < 0 || cpu >= CPU_SETSIZE)
				loop_usage("--cpu must be a CPU number");
			o->cpu = (int)cpu;
		} else if (!strcmp(name, "--duration")) {
			o->duration = strtod(value, &end);
			/* Bounded: a loop never runs for more than an hour. */
			if (*end || end == value || !(o->duration > 0 && o->duration <= 3600))
				loop_usage("--duration must be seconds, more than 0 and at most 3600");
		} else if (!strcmp(name, "--counter")) {
			o->counter = value;
		} else {
			loop_usage("unknown option");
		}
	}
	if (!o->iface || !mode_given || o->cpu < 0 || o->duration == 0 || !o->counter)
		loop_usage("every option is required");
}

static void loop_on_signal(int signo)
{
	(void)signo;
	loop_stop_requested = 1;
}

/* Pins to the CPU and makes SIGINT/SIGTERM end the loop. No SA_RESTART: a signal must interrupt poll(). */
static int loop_setup_process(const struct loop_options *o)
{
	struct sigaction action = { .sa_handler = loop_on_signal };
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(o->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		loop_error("sched_setaffinity", errno);
		return -1;
	}
	sigemptyset(&action.sa_mask);
	if (sigaction(SIGINT, &action, NULL) || sigaction(SIGTERM, &action, NULL)) {
		loop_error("sigaction", errno);
		return -1;
	}
	return 0;
}

/* The running frame count, in an 8-byte file mapped shared, so another process can read it at any moment. */
static volatile uint64_t *loop_open_counter(const char *path)
{
	void *map;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0) {
		loop_error("open(counter file)", errno);
		return NULL;
	}
	if (ftruncate(fd, sizeof(uint64_t))) {
		loop_error("ftruncate(counter file)", errno);
		close(fd);
		return NULL;
	}
	map = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		loop_error("mmap(counter file)", errno);
		return NULL;
	}
	return map;
}

static void loop_store_count(volatile uint64_t *counter, uint64_t count)
{
	/* One aligned 8-byte store: a reader never sees half of it. */
	__atomic_store_n(counter, count, __ATOMIC_RELAXED);
}

static uint64_t loop_now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

/* How long poll() may sleep now: until the deadline, at most LOOP_POLL_MS; -1 when the loop must end. */
static int loop_poll_ms(uint64_t deadline_ns)
{
	uint64_t now = loop_now_ns();

	if (loop_stop_requested || now >= deadline_ns)
		return -1;
	return (deadline_ns - now) / 1000000 < LOOP_POLL_MS ? (int)((deadline_ns - now) / 1000000) : LOOP_POLL_MS;
}

static uint64_t loop_deadline_ns(const struct loop_options *o)
{
	return loop_now_ns() + (uint64_t)(o->duration * 1e9);
}

/* Tells the parent the loop is attached and counting (it waits for this line before measuring). */
static void loop_report_ready(const struct loop_options *o)
{
	printf("ready %s %s cpu %d\n", o->iface, o->tx ? "tx" : "drop", o->cpu);
	fflush(stdout);
}

/* The closing line, on standard output after the ready line, for the parent's log. */
static void loop_report_end(const struct loop_options *o, uint64_t frames, uint64_t tx_full, uint64_t kick_errors)
{
	printf("%s %s %s: %llu frames, %llu not sent (TX ring full), %llu failed kicks\n", loop_name, o->iface,
	       o->tx ? "tx" : "drop", (unsigned long long)frames, (unsigned long long)tx_full,
	       (unsigned long long)kick_errors);
	fflush(stdout);
}

static void loop_swap_macs(uint8_t *frame)
{
	uint8_t mac[6];

	memcpy(mac, frame, 6);
	memcpy(frame, frame + 6, 6);
	memcpy(frame + 6, mac, 6);
}

#endif
