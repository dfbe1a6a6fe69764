/* The kernel's floor for the namespaces figures: a C program that makes only the system
 * calls the daemon must make, over the same namespaces, and nothing else.
 *
 *   netns-floor ROUNDS PATH...
 *
 * For each nsfs PATH (a /run/netns entry) it enters the namespace (setns), opens the three
 * keepalive files read-write, reads them, writes 1800/15/3 and reads each back, as an
 * adoption does; then it times ROUNDS rounds of one pread(2) of every file, as the
 * periodic re-read does. It prints two lines:
 *
 *   start-ms N        entering and writing every namespace
 *   round-us N        one round of reads over all of them (the mean)
 *
 * No program that keeps these namespaces under a profile can start faster or re-read them
 * for less; bench/harness.py shows the figures beside the daemon's. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: netns-floor ROUNDS PATH...\n");
        return 2;
    }
    int rounds = atoi(argv[1]), count = argc - 2;
    static const char *keys[] = {"/proc/sys/net/ipv4/tcp_keepalive_time", "/proc/sys/net/ipv4/tcp_keepalive_intvl",
                                 "/proc/sys/net/ipv4/tcp_keepalive_probes"};
    static const char *values[] = {"1800\n", "15\n", "3\n"};
    int *fds = calloc((size_t)count * 3, sizeof(int));
    int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    char buffer[32];
    double started = now_us();
    for (int n = 0; n < count; n++) {
        int ns = open(argv[n + 2], O_RDONLY | O_CLOEXEC);
        if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) { perror(argv[n + 2]); return 1; }
        close(ns);
        for (int k = 0; k < 3; k++) {
            int fd = open(keys[k], O_RDWR | O_CLOEXEC);
            if (fd < 0) { perror(keys[k]); return 1; }
            fds[n * 3 + k] = fd;
            if (pread(fd, buffer, sizeof buffer, 0) < 0 || pwrite(fd, values[k], strlen(values[k]), 0) < 0
                || pread(fd, buffer, sizeof buffer, 0) < 0) { perror("read/write"); return 1; }
        }
    }
    double entered = now_us();
    if (setns(own, CLONE_NEWNET) != 0) { perror("setns back"); return 1; }
    double before = now_us();
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < count * 3; i++)
            if (pread(fds[i], buffer, sizeof buffer, 0) < 0) { perror("pread"); return 1; }
    double after = now_us();
    printf("start-ms %.3f\nround-us %.3f\n", (entered - started) / 1e3, rounds > 0 ? (after - before) / rounds : 0.0);
    return 0;
}
