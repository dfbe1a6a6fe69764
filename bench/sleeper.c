/* Floors for "CPU per drift check": a C program that waits exactly as the daemon does
 * (poll(2) on a signalfd and an inotify descriptor that watches the three keepalive files,
 * with a timeout of N milliseconds), reads any inotify events, and does nothing else; or,
 * with "read", also reads the three keepalive values the way the daemon's check does
 * (pread(2) at offset 0 through descriptors kept open).
 *
 *   sleeper MS          the cost of a bare wake-up
 *   sleeper MS read     the cost of a wake-up plus the kernel's side of a check
 *
 * bench/harness.py subtracts the bare wake-up from the daemon's cost per wake-up to get
 * the cost of the check itself, and shows the "read" floor next to it: no program that
 * reads the values can check for less. It wakes them by the timeout (one check a second,
 * cold) and by writes to the files (checks back to back, warm). */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int milliseconds = argc > 1 ? atoi(argv[1]) : 1000;
    int reads = argc > 2 && strcmp(argv[2], "read") == 0;
    static const char *paths[3] = {
        "/proc/sys/net/ipv4/tcp_keepalive_time",
        "/proc/sys/net/ipv4/tcp_keepalive_intvl",
        "/proc/sys/net/ipv4/tcp_keepalive_probes",
    };
    int fds[3];
    for (int i = 0; i < 3; i++) fds[i] = open(paths[i], O_RDONLY | O_CLOEXEC);
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigprocmask(SIG_BLOCK, &signals, NULL);
    struct pollfd waits[2] = {
        {signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC), POLLIN, 0},
        {inotify_init1(IN_NONBLOCK | IN_CLOEXEC), POLLIN, 0},
    };
    for (int i = 0; i < 3; i++) inotify_add_watch(waits[1].fd, paths[i], IN_MODIFY);
    char buffer[32];
    char events[4096] __attribute__((aligned(8)));
    for (;;) {
        poll(waits, 2, milliseconds);
        if (waits[1].revents)
            while (read(waits[1].fd, events, sizeof events) > 0) {}
        if (reads)
            for (int i = 0; i < 3; i++) (void)pread(fds[i], buffer, sizeof buffer, 0);
    }
}
