/// The three keepalive values, as a profile wants them or as the kernel has them.
public struct KeepaliveValues: Sendable, Hashable {
    public var time: Int
    public var intvl: Int
    public var probes: Int

    /// Creates a value set from its three members.
    public init(time: Int, intvl: Int, probes: Int) {
        self.time = time
        self.intvl = intvl
        self.probes = probes
    }

    /// The kernel's defaults, which every new network namespace starts with: 7200/75/9.
    public static let kernelDefaults = KeepaliveValues(
        time: Tunable.time.spec.kernelDefault,
        intvl: Tunable.intvl.spec.kernelDefault,
        probes: Tunable.probes.spec.kernelDefault)

    /// Reads or sets one member by its key.
    public subscript(key: Tunable) -> Int {
        get {
            switch key {
            case .time: time
            case .intvl: intvl
            case .probes: probes
            }
        }
        set {
            switch key {
            case .time: time = newValue
            case .intvl: intvl = newValue
            case .probes: probes = newValue
            }
        }
    }

    /// Seconds until a dead peer on an idle connection is declared dead: time + intvl × probes.
    public var detectionSeconds: Int { time + intvl * probes }

    /// `1800/30/3`: the compact form used in status lines and logs.
    public var compact: String { "\(time)/\(intvl)/\(probes)" }

    /// Parses the ``compact`` form back; `nil` unless it is three integers.
    public init?<Text: StringProtocol>(compact text: Text) {
        let numbers = text.split(separator: "/").compactMap { Int($0) }
        guard numbers.count == 3 else { return nil }
        self.init(time: numbers[0], intvl: numbers[1], probes: numbers[2])
    }

    /// The fields of a one-line record `key=value key=value`, as the daemon's runtime files
    /// hold them; `nil` if a word has no `=`.
    public static func recordFields(_ text: String) -> [Substring: Substring]? {
        var fields: [Substring: Substring] = [:]
        for pair in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            guard let equals = pair.firstIndex(of: "=") else { return nil }
            fields[pair[..<equals]] = pair[pair.index(after: equals)...]
        }
        return fields
    }

    /// These values with `keys` taken from `actual`: what a namespace must hold when its
    /// runtime set those keys explicitly (`explicit-values = keep`). The one formula behind
    /// the daemon's drift check, its apply and `status`/`namespaces --netns`.
    public func keeping(_ keys: some Sequence<Tunable>, from actual: KeepaliveValues) -> KeepaliveValues {
        var kept = self
        for key in keys { kept[key] = actual[key] }
        return kept
    }

    /// The keys whose values differ from `expected`, in table order.
    ///
    /// This one diff serves both the apply plan (what to write) and drift detection
    /// (what the kernel lost).
    public func differences(from expected: KeepaliveValues) -> [ValueDifference] {
        Tunable.allCases.compactMap { key in
            self[key] == expected[key]
                ? nil : ValueDifference(key: key, expected: expected[key], actual: self[key])
        }
    }
}

/// One key whose actual value differs from the expected one.
public struct ValueDifference: Sendable, Hashable {
    /// The key that differs.
    public let key: Tunable
    /// The value the policy wants.
    public let expected: Int
    /// The value found in the kernel.
    public let actual: Int

    public init(key: Tunable, expected: Int, actual: Int) {
        self.key = key
        self.expected = expected
        self.actual = actual
    }
}

extension KeepaliveValues {
    /// What the kernel does about a dead peer on an idle keepalive connection with these
    /// values, in words, including values outside the per-socket limits that the sysctls
    /// accept anyway (measured: with time 0 probing starts at once; a negative time wraps
    /// to 2^32 ms before the first probe; with probes 0 the first expiry resets).
    public var detectionDescription: String {
        if intvl < 1 {
            return "unknown: tcp_keepalive_intvl \(intvl) is outside 1..32767, and keepalive is not defined for it"
        }
        if time < 0 {
            return "practically never: a negative tcp_keepalive_time (\(time)) puts the first probe about 49.7 days (2^32 ms) away"
        }
        if probes < 1 {
            return "\(time) s, but live peers too: tcp_keepalive_probes \(probes) resets every connection idle for tcp_keepalive_time, whether its peer answers or not"
        }
        let found = "\(detectionSeconds) s (\(TimeSpan.format(seconds: detectionSeconds)))"
        if time == 0 {
            return "\(found): tcp_keepalive_time 0 starts probing as soon as a connection is idle, and probes live peers every \(intvl) s"
        }
        return found
    }

    /// ``detectionSeconds`` when it means what it says: `nil` for values keepalive cannot
    /// use as intended (see ``detectionDescription``).
    public var meaningfulDetectionSeconds: Int? {
        intvl >= 1 && time >= 0 && probes >= 1 ? detectionSeconds : nil
    }
}
