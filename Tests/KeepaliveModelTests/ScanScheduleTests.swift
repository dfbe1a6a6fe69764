import KeepaliveModel
import Testing

/// When the fleet looks for namespaces, and what a namespace must hold: the two pure
/// decisions behind it, from tables.
@Suite("Scan schedule and namespace expectations")
struct ScanScheduleTests {
    static let start = Instant(microseconds: 1_000_000_000)
    static let interval = Interval.seconds(60)

    func at(_ milliseconds: Int) -> Instant { Self.start + .milliseconds(milliseconds) }

    /// One step fed to a schedule, and the scan it must answer with.
    enum Step {
        case take(Int, ScanSchedule.Scan?)
        case hint(Int)
        case rescanHint(Int)
        case reconfigured(Int)
    }

    @Test(arguments: [
        ("the first full scan is due at once, the next one an interval later",
         [Step.take(0, .full), .take(1, nil), .take(59_999, nil), .take(60_000, .full)]),
        ("a hint asks for a quick scan, taken once",
         [.take(0, .full), .hint(500), .take(499, nil), .take(500, .quick), .take(501, nil)]),
        ("an RTM_NEWNSID brings the full scan forward, and the next one counts from it",
         [.take(0, .full), .rescanHint(2_000), .take(2_000, .full), .take(61_999, nil), .take(62_000, .full)]),
        ("a due full scan takes the pending quick one with it",
         [.take(0, .full), .hint(59_000), .take(60_000, .full), .take(60_001, nil)]),
        ("a reload scans everything at once",
         [.take(0, .full), .reconfigured(10), .take(10, .full)]),
    ])
    func scansComeWhenDue(_ name: String, steps: [Step]) {
        var schedule = ScanSchedule(at: Self.start)
        for (index, step) in steps.enumerated() {
            switch step {
            case .take(let ms, let expected):
                let scan = schedule.take(at: at(ms), rescanInterval: Self.interval)
                #expect(scan == expected, "\(name): step \(index)")
            case .hint(let ms): schedule.hinted(at: at(ms))
            case .rescanHint(let ms): schedule.rescanHinted(at: at(ms))
            case .reconfigured(let ms): schedule.reconfigured(at: at(ms))
            }
        }
    }

    @Test func aPinWithoutItsContainerIsAwaitedWithDoublingStepsThenAdoptedAnyway() {
        var schedule = ScanSchedule(at: Self.start)
        _ = schedule.take(at: at(0), rescanInterval: Self.interval)
        var now = 0
        var looks: [Int] = []
        while schedule.awaits(7, at: at(now)) {
            let look = Int((schedule.deadline.microseconds - Self.start.microseconds) / 1000)
            looks.append(look - now)
            now = look
            let scan = schedule.take(at: at(now), rescanInterval: Self.interval)
            #expect(scan == .quick)
        }
        #expect(Array(looks.prefix(8)) == [10, 20, 40, 80, 160, 320, 640, 1000], "10 ms, doubling to a second")
        #expect(now >= 10_000 && now < 11_000, "given up after the await limit (10 s): \(now) ms")
        #expect(schedule.awaitingSince[7] == nil)
        schedule.scanned { _ in true }
        #expect(schedule.awaitStep == ScanSchedule.firstAwaitStep, "nothing awaited: the step starts afresh")
    }

    @Test func aNamespaceWithoutAPinIsHeldForTheNameGraceOnce() {
        var schedule = ScanSchedule(at: Self.start)
        var held = 0, now = 0
        _ = schedule.take(at: at(0), rescanInterval: .seconds(3600))
        while schedule.awaitsName(5, at: at(now)), held < 100 {
            held += 1
            now = Int((schedule.deadline.microseconds - Self.start.microseconds) / 1000)
            _ = schedule.take(at: at(now), rescanInterval: .seconds(3600))
        }
        #expect(held > 1 && now >= 1000 && now < 2000, "held for the grace (1 s): \(now) ms")
        let again = schedule.awaitsName(5, at: at(now + 60_000))
        #expect(!again, "once per namespace: a later full scan does not hold it again")
        schedule.scanned { _ in false }
        let reused = schedule.awaitsName(5, at: at(now + 120_000))
        #expect(reused, "an inode no scan found, seen again, is a new namespace: held again")
    }

    @Test func aFailedNamespaceIsReportedOnceAndTriedAgainOnlyAtAFullScan() {
        var schedule = ScanSchedule(at: Self.start)
        let first = schedule.failed(9), second = schedule.failed(9)
        #expect(first)
        #expect(!second, "reported once")
        #expect(schedule.skips(9, full: false))
        #expect(!schedule.skips(9, full: true))
        schedule.scanned { $0 != 9 }
        #expect(!schedule.skips(9, full: false), "gone from the scan: forgotten")
        let again = schedule.failed(9)
        #expect(again, "a new failure is new")
        schedule.reconfigured(at: at(1))
        #expect(schedule.failures.isEmpty, "a reload tries every namespace again")
    }

    @Test func aWaitThatEndsKeepsOthersAwaited() {
        var schedule = ScanSchedule(at: Self.start)
        let one = schedule.awaits(1, at: at(0)), two = schedule.awaits(2, at: at(0))
        #expect(one && two)
        schedule.settled(1)
        schedule.scanned { _ in true }
        #expect(Set(schedule.awaitingSince.keys) == [2])
        #expect(schedule.awaitStep > ScanSchedule.firstAwaitStep, "still waiting for 2: the step keeps growing")
        schedule.scanned { $0 != 2 }
        #expect(schedule.awaitingSince.isEmpty, "a namespace no scan finds is no longer awaited")
    }

    // MARK: - What a namespace must hold

    static let server = ResolvedProfile(name: ProfileName("server")!, description: "d", values: KeepaliveValues(time: 1800, intvl: 30, probes: 3),
                                        provenance: [:], source: "s", chain: ["s"])
    static let web = ResolvedProfile(name: ProfileName("web")!, description: "d", values: KeepaliveValues(time: 600, intvl: 10, probes: 5),
                                     provenance: [:], source: "w", chain: ["w"])

    func policy(explicit: NamespaceRules.ExplicitValues) -> Policy {
        var config = DaemonConfig()
        let line = SourceLocation(file: "/c.conf", line: 3)
        config.manage = Located(.matching, at: line)
        config.explicitValues = Located(explicit, at: line)
        config.namespaceRuleLines = [NamespaceRules.Rule(profile: ProfileName("web")!,
                                                         selectors: try! NamespaceSelector.parseList("podman:frontend-*").get(), location: line)]
        return Policy(config: config, profile: Self.server, namespaceProfiles: [ProfileName("web")!: Self.web])
    }

    func container(_ name: String, explicit: [Tunable: Int] = [:]) -> NamespaceIdentity {
        var identity = NamespaceIdentity(inode: 4026532600)
        identity.containers = [ContainerRecord(runtime: .podman, id: String(repeating: "c", count: 64), name: name, sysctls: explicit)]
        return identity
    }

    @Test(arguments: [
        ("a matching container holds its rule's profile", "frontend-1", [Tunable: Int](), NamespaceRules.ExplicitValues.keep, "600/10/5" as String?),
        ("its runtime's explicit value is kept", "frontend-1", [.time: 300], .keep, "7200/10/5"),
        ("unless explicit-values = override", "frontend-1", [.time: 300], .override, "600/10/5"),
        ("a container no rule names holds nothing", "backend-1", [:], .keep, nil),
    ])
    func aNamespaceHoldsWhatTheRulesSay(_ name: String, container: String, explicit: [Tunable: Int],
                                         mode: NamespaceRules.ExplicitValues, expected: String?) {
        let policy = policy(explicit: mode)
        let expectation = policy.config.namespaceRules.expectation(for: self.container(container, explicit: explicit), policy: policy)
        #expect(expectation.expected(actual: .kernelDefaults)?.compact == expected, "\(name)")
        #expect((expectation.policy != nil) == (expectation.decision.profile != nil), "\(name)")
    }

    @Test func theDaemonsOwnNamespaceHoldsTheDaemonProfileWhole() {
        let policy = policy(explicit: .keep)
        var own = container("frontend-1", explicit: [.time: 300])
        own.isOwn = true
        let expectation = policy.config.namespaceRules.expectation(for: own, policy: policy)
        #expect(expectation.expected(actual: .kernelDefaults)?.compact == "1800/30/3")
        #expect(expectation.kept.isEmpty)
    }

    @Test func messagesNameANamespaceByInodeAndLabel() {
        #expect(container("frontend-1").summary == "4026532600 (podman frontend-1)")
    }
}
