/* nfq_delay: holds every packet an iptables NFQUEUE rule hands it for a fixed time, then
 * accepts it: a kernel packet delay for kernels without netem (tests/bench/bench.sh).
 *
 *     nfq_delay QUEUE_NUM DELAY_MS
 *
 * The delay is the same for every packet, so a FIFO keeps their order. It runs until
 * SIGTERM or SIGINT; the rule should use --queue-bypass so that packets flow undelayed, not
 * dropped, when it is not running. Build: cc -O2 -o nfq_delay nfq_delay.c -lnetfilter_queue
 * (Debian: libnetfilter-queue-dev). */
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define MAX_HELD 65536 /* packets in flight; past it a packet is accepted at once */

static struct {
    uint32_t id;
    int64_t due_ns;
} held[MAX_HELD];
static size_t head, count;
static int64_t delay_ns;
static unsigned long long overflowed;
static volatile sig_atomic_t stop;

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int on_packet(struct nfq_q_handle* queue, struct nfgenmsg* message, struct nfq_data* data,
                     void* unused) {
    (void)message;
    (void)unused;
    struct nfqnl_msg_packet_hdr* header = nfq_get_msg_packet_hdr(data);
    if (header == NULL)
        return 0;
    uint32_t const id = ntohl(header->packet_id);
    if (count == MAX_HELD) {
        ++overflowed;
        return nfq_set_verdict(queue, id, NF_ACCEPT, 0, NULL);
    }
    size_t const tail = (head + count) % MAX_HELD;
    held[tail].id = id;
    held[tail].due_ns = now_ns() + delay_ns;
    ++count;
    return 0;
}

static void on_signal(int signal_number) {
    (void)signal_number;
    stop = 1;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: nfq_delay QUEUE_NUM DELAY_MS\n");
        return 2;
    }
    int const queue_number = atoi(argv[1]);
    delay_ns = (int64_t)(atof(argv[2]) * 1e6);
    struct nfq_handle* handle = nfq_open();
    if (handle == NULL) {
        perror("nfq_open");
        return 1;
    }
    struct nfq_q_handle* queue = nfq_create_queue(handle, (uint16_t)queue_number, on_packet, NULL);
    if (queue == NULL) {
        perror("nfq_create_queue");
        return 1;
    }
    /* Headers only: the verdict does not need the payload. */
    if (nfq_set_mode(queue, NFQNL_COPY_META, 0) < 0 || nfq_set_queue_maxlen(queue, MAX_HELD) < 0) {
        perror("nfq_set_mode");
        return 1;
    }
    int const fd = nfq_fd(handle);
    int buffer_size = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_size, sizeof buffer_size);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    printf("nfq_delay: queue %d, %.1f ms per packet\n", queue_number, delay_ns / 1e6);
    fflush(stdout);

    static char buffer[65536];
    while (!stop) {
        int64_t const now = now_ns();
        while (count > 0 && held[head].due_ns <= now) {
            nfq_set_verdict(queue, held[head].id, NF_ACCEPT, 0, NULL);
            head = (head + 1) % MAX_HELD;
            --count;
        }
        int timeout_ms = -1;
        if (count > 0) {
            int64_t const wait_ns = held[head].due_ns - now;
            timeout_ms = (int)((wait_ns + 999999) / 1000000);
        }
        struct pollfd p = {fd, POLLIN, 0};
        int const ready = poll(&p, 1, timeout_ms);
        if (ready < 0 && errno != EINTR) {
            perror("poll");
            break;
        }
        if (ready > 0) {
            ssize_t const n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
            if (n > 0)
                nfq_handle_packet(handle, buffer, (int)n);
            else if (n < 0 && errno == ENOBUFS)
                fprintf(stderr, "nfq_delay: the kernel dropped queued packets (ENOBUFS)\n");
        }
    }
    /* Release what is held, so that nothing waits for a verdict that never comes. */
    while (count > 0) {
        nfq_set_verdict(queue, held[head].id, NF_ACCEPT, 0, NULL);
        head = (head + 1) % MAX_HELD;
        --count;
    }
    if (overflowed > 0)
        fprintf(stderr, "nfq_delay: %llu packets passed undelayed (more than %d held)\n",
                overflowed, MAX_HELD);
    nfq_destroy_queue(queue);
    nfq_close(handle);
    return 0;
}
