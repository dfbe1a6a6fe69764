/// The keepalive values found in each network namespace before anything was written there:
/// what `restore-on-stop` puts back, even after a crash, a watchdog kill or a restart.
///
/// Kept in the runtime directory (`/run/keepalived-tune/originals`, gone at reboot) as text,
/// one line per network namespace:
///
///     keepalived-tune-originals 2
///     boot 5b1e8c0e-...            (the kernel's boot id: a file from another boot is stale)
///     netns 4026531840 cookie 1 found 1764672600 values 7200/75/9
///
/// A namespace is named by its nsfs inode *and* its network-namespace cookie (``Key``): the
/// kernel hands a freed inode to the next namespace at once, so an inode alone would give a
/// namespace that ended the originals of the one that reuses its number. `found` is when that
/// namespace's values were found (wall-clock seconds), kept as it was by every later write.
///
/// Parsing is all or nothing: a file that does not parse whole is never trusted half-read.
public struct Originals: Sendable, Hashable {
    /// The format version this build writes and reads (1 keyed namespaces by inode alone).
    public static let version = 2
    static let magic = "keepalived-tune-originals"

    /// Which network namespace a record is of: its nsfs inode (what `ls -l /proc/PID/ns/net`
    /// and the logs show) and its cookie (`SO_NETNS_COOKIE` of a socket made inside it, kernel
    /// 5.14+), which the kernel never gives two namespaces in a boot. A cookie of 0 means it
    /// could not be read (an older kernel); such a key matches only itself, by inode, as the
    /// format of version 1 did.
    public struct Key: Sendable, Hashable, Comparable, CustomStringConvertible {
        public let inode: UInt64
        public let cookie: UInt64

        public init(inode: UInt64, cookie: UInt64) {
            self.inode = inode
            self.cookie = cookie
        }

        public static func < (lhs: Key, rhs: Key) -> Bool { (lhs.inode, lhs.cookie) < (rhs.inode, rhs.cookie) }

        /// `4026531840 (cookie 1)`.
        public var description: String { "\(inode) (cookie \(cookie))" }
    }

    /// One namespace's originals, and when they were found.
    public struct Record: Sendable, Hashable {
        public let values: KeepaliveValues
        /// When they were found (wall clock, seconds since the epoch).
        public let foundAt: Int

        public init(values: KeepaliveValues, foundAt: Int) {
            self.values = values
            self.foundAt = foundAt
        }
    }

    /// The boot they were found in (`/proc/sys/kernel/random/boot_id`).
    public let boot: String
    /// The records, by namespace.
    public let records: [Key: Record]

    public init(boot: String, records: [Key: Record]) {
        self.boot = boot
        self.records = records
    }

    /// Why a file cannot be trusted.
    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case notOriginals
        case unsupportedVersion(String)
        case malformed(line: Int)
        case otherBoot(String)

        public var description: String {
            switch self {
            case .notOriginals: "it is not a keepalived-tune originals file"
            case .unsupportedVersion(let version): "its format version \(version) is not \(Originals.version)"
            case .malformed(let line): "line \(line) is malformed"
            case .otherBoot(let boot): "it was saved in another boot (\(boot))"
            }
        }
    }

    /// The file's text.
    public var text: String {
        var lines = ["\(Originals.magic) \(Originals.version)", "boot \(boot)"]
        lines.reserveCapacity(records.count + 2)
        for key in records.keys.sorted() {
            let record = records[key]!
            lines.append("netns \(key.inode) cookie \(key.cookie) found \(record.foundAt) values \(record.values.compact)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses a whole file, expecting it from `boot`.
    public static func parse(_ text: String, boot expected: String) -> Result<Originals, Problem> {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0)
        guard let first = lines.first?.split(separator: " "), first.count == 2, first[0] == magic else { return .failure(.notOriginals) }
        guard first[1] == "\(version)" else { return .failure(.unsupportedVersion(String(first[1]))) }
        var boot: String?
        var records: [Key: Record] = [:]
        for (index, line) in lines.enumerated().dropFirst() {
            let words = line.split(separator: " ", omittingEmptySubsequences: false)
            switch (words.first, words.count) {
            case ("boot", 2) where boot == nil && !words[1].isEmpty: boot = String(words[1])
            case ("netns", 8):
                guard words[2] == "cookie", words[4] == "found", words[6] == "values",
                      let inode = UInt64(words[1]), let cookie = UInt64(words[3]), let found = Int(words[5]),
                      let values = strictValues(words[7]), records[Key(inode: inode, cookie: cookie)] == nil
                else { return .failure(.malformed(line: index + 1)) }
                records[Key(inode: inode, cookie: cookie)] = Record(values: values, foundAt: found)
            default: return .failure(.malformed(line: index + 1))
            }
        }
        guard let boot else { return .failure(.malformed(line: lines.count)) }
        guard boot == expected else { return .failure(.otherBoot(boot)) }
        return .success(Originals(boot: boot, records: records))
    }

    /// `7200/75/9`, exactly three non-negative integers.
    private static func strictValues(_ word: Substring) -> KeepaliveValues? {
        let parts = word.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }) else { return nil }
        return KeepaliveValues(compact: word)
    }
}
