/* The floor for "CPU per wake-up": a process that does nothing but wake from poll() every
 * N milliseconds. bench/harness.py subtracts its CPU per wake-up from the daemon's to get
 * the cost of the drift check itself. */
#include <poll.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int milliseconds = argc > 1 ? atoi(argv[1]) : 1000;
    for (;;) poll(NULL, 0, milliseconds);
}
