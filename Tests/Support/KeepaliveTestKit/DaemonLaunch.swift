/// How ``DaemonUnderTest`` starts the daemon: the shell run under `unshare`, which gives it
/// a private `/run` (and a journal there), its descriptor limit, then execs it.
extension DaemonUnderTest {
    /// The shell that sets the daemon's descriptor limit from `KT_NOFILE`: `N` for a soft and
    /// hard limit of N (`ulimit -n`), `SOFT:HARD` for each apart. Every descriptor but 0-2 is
    /// closed first, so that the daemon starts with those alone.
    static let descriptorLimit = """
        { [ -z "$KT_NOFILE" ] || { for f in /proc/self/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; \
        case $KT_NOFILE in *:*) ulimit -Sn "${KT_NOFILE%%:*}" && ulimit -Hn "${KT_NOFILE#*:}";; *) ulimit -n "$KT_NOFILE";; esac; }; }
        """

    /// The shell that prepares the daemon's mount namespace for `sink`, then execs it.
    static func launchScript(_ sink: JournalSink) -> String {
        switch sink {
        case .console, .consoleClosed:
            return """
                mount -t tmpfs tmpfs /run && \(DaemonUnderTest.descriptorLimit) \
                  && exec $KT_WRAPPER "$KT_BINARY" run --log-target console "$@"
                """
        case .receiver:
            return """
                mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal \
                  && mount --bind "$KT_DIR/journal" /run/systemd/journal \
                  && \(DaemonUnderTest.descriptorLimit) \
                  && exec $KT_WRAPPER "$KT_BINARY" run --log-target journal "$@"
                """
        case .journald:
            return """
                mount -t tmpfs tmpfs /run && mkdir -p /run/systemd /run/log \
                  && mount --bind "$KT_DIR/log" /run/log \
                  && mount --bind "$KT_DIR/journald.conf" /etc/systemd/journald.conf || exit 90
                # (The shell holds only 0, 1 and 2: SpawnedProcess gives a child nothing else.)
                \(DaemonUnderTest.journaldBinary) </dev/null >/dev/null 2>&1 &
                echo $! > "$KT_DIR/journald.pid"
                # Await journald's socket and its journal file (bounded: 60 s, for a busy machine).
                i=0
                until [ -S /run/systemd/journal/socket ] && ls /run/log/journal/*/system.journal >/dev/null 2>&1; do
                  [ $i -lt 12000 ] || exit 91; sleep 0.005; i=$((i+1))
                done
                exec $KT_WRAPPER "$KT_BINARY" run --log-target journal "$@"
                """
        }
    }
}
