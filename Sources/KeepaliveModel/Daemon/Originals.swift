/// The keepalive values found at the first start of a boot, before anything was written:
/// what `restore-on-stop` puts back, even after a crash, a watchdog kill or a restart.
///
/// Kept in the runtime directory (`/run/keepalived-tune/originals`, gone at reboot) as text,
/// one record per key and network namespace:
///
///     keepalived-tune-originals 1
///     boot 5b1e8c0e-...            (the kernel's boot id: a file from another boot is stale)
///     saved 1764672600             (wall-clock seconds, for people)
///     netns 4026531840 net.ipv4.tcp_keepalive_time 7200
///     netns 4026531840 net.ipv4.tcp_keepalive_intvl 75
///     netns 4026531840 net.ipv4.tcp_keepalive_probes 9
///
/// Parsing is all or nothing: a file that does not parse whole is never trusted half-read.
public struct Originals: Sendable, Hashable {
    /// The format version this build writes and reads.
    public static let version = 1
    static let magic = "keepalived-tune-originals"

    /// The boot they were found in (`/proc/sys/kernel/random/boot_id`).
    public let boot: String
    /// When they were saved, in seconds since the epoch.
    public let savedAt: Int
    /// The values found, by network namespace (inode).
    public let values: [UInt64: KeepaliveValues]

    public init(boot: String, savedAt: Int, values: [UInt64: KeepaliveValues]) {
        self.boot = boot
        self.savedAt = savedAt
        self.values = values
    }

    /// Why a file cannot be trusted.
    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case notOriginals
        case unsupportedVersion(String)
        case malformed(line: Int)
        case incomplete(netns: UInt64)
        case otherBoot(String)

        public var description: String {
            switch self {
            case .notOriginals: "it is not a keepalived-tune originals file"
            case .unsupportedVersion(let version): "its format version \(version) is not \(Originals.version)"
            case .malformed(let line): "line \(line) is malformed"
            case .incomplete(let netns): "namespace \(netns) lacks one of the three keys"
            case .otherBoot(let boot): "it was saved in another boot (\(boot))"
            }
        }
    }

    /// The file's text.
    public var text: String {
        var lines = ["\(Originals.magic) \(Originals.version)", "boot \(boot)", "saved \(savedAt)"]
        for netns in values.keys.sorted() {
            for key in Tunable.allCases { lines.append("netns \(netns) \(key.sysctlName) \(values[netns]![key])") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses a whole file, expecting it from `boot`.
    public static func parse(_ text: String, boot expected: String) -> Result<Originals, Problem> {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0)
        guard let first = lines.first?.split(separator: " "), first.count == 2, first[0] == magic else { return .failure(.notOriginals) }
        guard first[1] == "\(version)" else { return .failure(.unsupportedVersion(String(first[1]))) }
        var boot: String?, saved: Int?
        var found: [UInt64: [Tunable: Int]] = [:]
        for (index, line) in lines.enumerated().dropFirst() {
            let words = line.split(separator: " ")
            switch (words.first, words.count) {
            case ("boot", 2) where boot == nil: boot = String(words[1])
            case ("saved", 2) where saved == nil: saved = Int(words[1])
            case ("netns", 4):
                guard let netns = UInt64(words[1]), let key = Tunable(sysctlKey: String(words[2])), let value = Int(words[3]),
                      found[netns]?[key] == nil else { return .failure(.malformed(line: index + 1)) }
                found[netns, default: [:]][key] = value
            default: return .failure(.malformed(line: index + 1))
            }
        }
        guard let boot, let saved else { return .failure(.malformed(line: lines.count)) }
        guard boot == expected else { return .failure(.otherBoot(boot)) }
        var values: [UInt64: KeepaliveValues] = [:]
        for (netns, keys) in found {
            guard let time = keys[.time], let intvl = keys[.intvl], let probes = keys[.probes] else { return .failure(.incomplete(netns: netns)) }
            values[netns] = KeepaliveValues(time: time, intvl: intvl, probes: probes)
        }
        return .success(Originals(boot: boot, savedAt: saved, values: values))
    }
}
