import KeepaliveModel
import Testing

/// The reload timing, event by event: microsecond tests of what the daemon's reload does
/// with a burst of SIGHUPs, a write in place, a rename, a half-written file and the quiet
/// period. Loads are strings here; the daemon's are policies.
@Suite("Reload gate (pure)")
struct ReloadGateTests {
    typealias Gate = ReloadGate<String>

    /// What the gate answers, without the payload's type in the way.
    enum Answer: Equatable {
        case idle, wait(Int), read, apply(String)
        init(_ action: Gate.Action, from start: Instant) {
            switch action {
            case .idle: self = .idle
            case .wait(let until): self = .wait(Int((until - start).microseconds / 1000))
            case .read: self = .read
            case .apply(let load): self = .apply(load)
            }
        }
    }

    /// One step of a scenario, at a time in milliseconds after its start.
    enum Step {
        case sighup
        case change(ConfigChange)
        /// A read at this time, disturbed or not: what it returns for immediate use.
        case read(String, disturbed: Bool, applies: String?)
        /// The candidate was applied.
        case applied
        /// What the gate answers at this time.
        case expect(Answer)
    }

    static let start = Instant(microseconds: 5_000_000)
    static let inPlace = ConfigChange(touched: true, writtenInPlace: true, writesStarted: ["1/k.conf"])
    static let closed = ConfigChange(finished: true, touched: true, writtenInPlace: true, writesEnded: ["1/k.conf"])
    static let renamed = ConfigChange(finished: true, touched: true)

    static let scenarios: [(String, [(Int, Step)])] = [
        ("nothing happened", [(0, .expect(.idle))]),
        ("a burst of SIGHUPs is one read", [
            (0, .sighup), (0, .sighup), (0, .sighup), (0, .expect(.read)),
            (1, .read("a", disturbed: false, applies: "a")), (1, .expect(.idle)),
        ]),
        ("a rename applies at once", [
            (0, .change(renamed)), (0, .expect(.read)),
            (1, .read("b", disturbed: false, applies: "b")), (1, .expect(.idle)),
        ]),
        ("a file open for writing is waited for, then read when closed", [
            (0, .change(inPlace)), (0, .expect(.idle)), (0, .sighup), (5, .expect(.wait(2000))),
            (8, .change(closed)), (8, .expect(.read)),
        ]),
        ("after an in-place write, the read waits out the quiet period", [
            (0, .change(inPlace)), (1, .change(closed)), (2, .expect(.read)),
            (3, .read("c", disturbed: false, applies: nil)), (3, .expect(.wait(13))), (12, .expect(.wait(13))),
            (13, .expect(.apply("c"))), (13, .applied), (13, .expect(.idle)),
        ]),
        ("a read disturbed by a write is done again", [
            (0, .sighup), (0, .expect(.read)), (1, .change(inPlace)),
            (1, .read("half", disturbed: true, applies: nil)), (1, .expect(.wait(2000))),
            (2, .change(closed)), (2, .expect(.wait(11))), (11, .expect(.read)),
        ]),
        ("a touch during the quiet period throws the candidate away", [
            (0, .change(closed)), (1, .read("d", disturbed: false, applies: nil)), (1, .expect(.wait(11))),
            (5, .change(closed)), (5, .expect(.read)),
        ]),
        ("a writer that never closes is waited for only so long", [
            (0, .change(inPlace)), (0, .sighup), (1999, .expect(.wait(2000))), (2000, .expect(.read)),
        ]),
        ("issue 19 #6: a read disturbed again and again is retried with growing spacing", [
            (0, .sighup), (0, .expect(.read)),
            (1, .read("x", disturbed: true, applies: nil)), (1, .expect(.wait(11))), (11, .expect(.read)),
            (11, .read("x", disturbed: true, applies: nil)), (11, .expect(.wait(31))), (31, .expect(.read)),
            (31, .read("x", disturbed: true, applies: nil)), (31, .expect(.wait(71))),
        ]),
        ("issue 19 #6: rewrites that never stop cannot hold a reload back past the grace period", [
            (0, .sighup), (0, .change(inPlace)), (0, .change(closed)), (0, .expect(.read)),
            (1, .read("x", disturbed: true, applies: nil)),
            (1500, .change(inPlace)), (1500, .change(closed)), (1500, .expect(.read)),
            (1500, .read("x", disturbed: true, applies: nil)),
            (2000, .change(inPlace)), (2000, .change(closed)), (2000, .expect(.read)),
            (2001, .read("y", disturbed: true, applies: "y")), (2001, .expect(.idle)),
        ]),
        ("issue 19 #6: a candidate dropped by each rewrite does not restart the grace period", [
            (0, .sighup), (0, .expect(.read)), (0, .change(closed)),
            (1, .read("x", disturbed: false, applies: nil)), (5, .change(closed)), (5, .expect(.read)),
            (6, .read("x", disturbed: false, applies: nil)), (9, .change(closed)),
            (2000, .expect(.read)), (2000, .read("z", disturbed: false, applies: "z")), (2000, .expect(.idle)),
        ]),
        ("an old in-place write does not delay a rename", [
            (0, .change(closed)), (1, .read("e", disturbed: false, applies: nil)), (11, .expect(.apply("e"))), (11, .applied),
            (100, .change(renamed)), (100, .expect(.read)), (101, .read("f", disturbed: false, applies: "f")),
        ]),
    ]

    @Test(arguments: scenarios.indices)
    func scenario(_ index: Int) {
        let (name, steps) = Self.scenarios[index]
        var gate = Gate()
        for (milliseconds, step) in steps {
            let now = Self.start + .milliseconds(milliseconds)
            switch step {
            case .sighup: gate.requested(at: now)
            case .change(let change): gate.observed(change, at: now)
            case .read(let load, let disturbed, let applies):
                #expect(gate.read(load, at: now, disturbed: disturbed) == applies, "\(name) at \(milliseconds) ms")
            case .applied: gate.applied()
            case .expect(let answer):
                #expect(Answer(gate.next(at: now), from: Self.start) == answer, "\(name) at \(milliseconds) ms")
            }
        }
    }
}
