import KeepaliveModel
import KeepaliveOS

/// Reloads: watches the config and profile files, times reads and applies with the
/// ``ReloadGate``, and reads the config when the gate says so.
///
/// It decides nothing about the policy itself: what a read produced goes back to the
/// daemon, which puts it in force or keeps the last good one.
final class ReloadController {
    private let setup: Setup
    private let watch: ConfigWatch
    private var gate = ReloadGate<PolicyLoad>()
    /// RELOADING=1 was sent for the reload in progress.
    private(set) var announced = false
    /// Why the last reload was refused, until a reload succeeds.
    var rejection: String?
    /// The config files of the last good load: a main file that vanishes later is not
    /// taken to mean "built-in defaults".
    private(set) var configFiles: [String] = []
    /// Those of them that had content: one that reads empty later is a rewrite in progress.
    private(set) var nonEmptyFiles: Set<String> = []

    /// Remembers the files of a load that was put in force.
    func remember(_ load: PolicyLoad) {
        configFiles = load.configFiles
        nonEmptyFiles = Set(load.configFiles).subtracting(load.emptyFiles)
    }
    /// Bumped whenever a relevant file is touched: a read compares it before and after.
    private var touches = 0

    init(setup: Setup, inotify: Inotify) {
        self.setup = setup
        watch = ConfigWatch(inotify: inotify, configPath: setup.configPath,
                            dropInDirectory: setup.dropInDirectory,
                            profileDirectories: setup.searchPath.directories, syscalls: setup.syscalls)
        watch.arm()
    }

    /// Whether nothing is pending (the idle loop asks this on every turn).
    var isIdle: Bool { gate.isIdle }

    /// SIGHUP (or lost events): reload.
    func requested(at now: Instant) { gate.requested(at: now) }

    /// Takes in inotify events (those not for the config are ignored) seen at `now`.
    func observe(_ events: [Inotify.Event], at now: Instant) {
        let assessment = watch.assess(events)
        if assessment.rearm { watch.arm() }
        if assessment.change.touched { touches += 1 }
        gate.observed(assessment.change, at: now)
    }

    /// When the loop must come back for this reload, if one is pending.
    func deadline(at now: Instant) -> Instant? {
        switch gate.next(at: now) {
        case .idle: nil
        case .wait(let until): until
        case .read, .apply: now
        }
    }

    /// Moves a pending reload on at `now`: reads the config if the gate says so (calling
    /// `announce` before the first read of a reload, and `drain` right after each read, to
    /// see whether a write disturbed it).
    ///
    /// - Returns: a load read whole and due to be put in force, or `nil`.
    func step(at now: Instant, announce: () -> Void, drain: () -> Void) -> PolicyLoad? {
        switch gate.next(at: now) {
        case .idle, .wait:
            return nil
        case .apply(let load):
            gate.applied()
            return finished(load)
        case .read:
            if !announced {
                announce()
                announced = true
            }
            let before = touches
            let load = setup.loadPolicy()
            let readAt = MonotonicClock.now()
            drain()
            return gate.read(load, at: readAt, disturbed: touches != before).map(finished)
        }
    }

    private func finished(_ load: PolicyLoad) -> PolicyLoad {
        announced = false
        return load
    }
}
