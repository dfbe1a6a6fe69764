import KeepaliveModel
import KeepaliveOS

/// The daemon's one loop: waits in poll(2) for the earliest deadline any part asks for or a
/// ready descriptor, wakes every part in order, and repeats until a part says stop.
///
/// It knows no part by name (``LoopPart``). After a turn that ran more than the idle check,
/// it hands the code pages back to the kernel just before it sleeps (``CodePages``); events
/// already queued then (such as the daemon's own writes to the sysctls) run first.
struct PartLoop {
    let parts: [any LoopPart]
    let codePages: CodePages
    let syscalls: Syscalls

    init(_ parts: [any LoopPart], codePages: CodePages, syscalls: Syscalls) {
        self.parts = parts
        self.codePages = codePages
        self.syscalls = syscalls
    }

    /// Runs until a part's activity includes ``Activity/stop``; then `stop` shuts down and
    /// gives the exit status.
    func run(stop: () -> Int32) -> Int32 {
        var poller = makePoller()
        var now = MonotonicClock.now()
        var busy = true   // start-up ran code the idle loop does not need
        while true {
            var deadline = Instant.never
            for part in parts {
                let due = part.deadline(at: now)
                if due < deadline { deadline = due }
            }
            // What the look before handing the code back finds is handled now: a mountinfo
            // change (edge-style POLLPRI) is reported once.
            var ready = 0
            if busy {
                ready = poller.wait(timeoutMilliseconds: 0)
                if ready == 0 {
                    codePages.release()
                    busy = false
                }
            }
            if ready == 0 { ready = poller.wait(timeoutMilliseconds: (deadline - now).pollTimeout) }
            now = MonotonicClock.now()
            var turn: Activity = []
            for part in parts {
                turn.formUnion(part.wake(at: now, ready: poller, turn: turn))
                if turn.contains(.stop) { return stop() }
            }
            if turn.contains(.ranCode) { busy = true }
            if turn.contains(.rewired) { poller = makePoller() }
        }
    }

    /// A poller over every part's descriptors.
    private func makePoller() -> Poller {
        let wakes = parts.flatMap(\.wakes)
        return Poller(watching: wakes.filter { !$0.priority }.map(\.fd), priority: wakes.filter(\.priority).map(\.fd),
                      syscalls: syscalls)
    }
}
