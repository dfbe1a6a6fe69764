// libsystemd as Swift sees it. Only the SystemdKit target imports this module.
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <sys/uio.h>
