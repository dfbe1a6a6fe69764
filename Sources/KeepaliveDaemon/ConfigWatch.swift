#if canImport(Glibc)
import Glibc
#endif
import KeepaliveOS

/// Watches the config file, its drop-in directory and the profile directories with
/// inotify, and says when a finished write, a rename or a deletion calls for a reload,
/// and whether a relevant file is being written right now (modified, not yet closed).
///
/// Directories are watched, not files, so editors that save by renaming a temp file over
/// the original are seen. A directory that does not exist yet is covered by a watch on
/// its nearest existing parent, which re-arms the watches when it appears.
final class ConfigWatch {
    private let inotify: Inotify
    private let configPath: String
    private let dropInDirectory: String
    private let profileDirectories: [String]
    /// What each watch is for; one directory can serve several purposes.
    private var watches: [Int32: [Interest]] = [:]

    private struct Interest {
        /// Names that matter in this directory; `nil` means any `*.conf`.
        let names: Set<String>?
        /// Whether this watch stands in for a missing directory, whose `names` is the
        /// child on the way to it.
        let placeholder: Bool
    }

    /// The events watched. IN_MODIFY never triggers a reload by itself (it fires for
    /// half-written files); it marks a write in progress until IN_CLOSE_WRITE.
    static let mask = UInt32(IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE
                             | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

    /// How long a file may stay open for writing before a reload goes ahead anyway (µs).
    static let writeGrace: UInt64 = 2_000_000

    /// Relevant files modified and not yet closed, by watch and name, with when it began.
    private var writing: [String: UInt64] = [:]

    /// What a batch of events means.
    struct Assessment {
        /// A relevant file was finished, renamed, created or removed: reload.
        var reload = false
        /// A watched directory appeared, vanished or moved: re-arm the watches.
        var rearm = false
        /// Any relevant file was touched at all (including mid-write).
        var touched = false
        /// A relevant file was created, modified or closed after writing in place, so a
        /// reader could catch it half-written. (A file renamed into place is whole.)
        var writtenInPlace = false
    }

    init(inotify: Inotify, configPath: String, dropInDirectory: String, profileDirectories: [String]) {
        self.inotify = inotify
        self.configPath = configPath
        self.dropInDirectory = dropInDirectory
        self.profileDirectories = profileDirectories
    }

    /// Sets up every watch; call at start, and again when directories may have appeared or
    /// vanished.
    ///
    /// Watches that are still wanted are kept (adding a watched inode again returns the
    /// same watch), so no event is lost while re-arming; only stale ones are removed.
    func arm() {
        var wanted: [Int32: [Interest]] = [:]
        add(ConfigWatch.directoryName(configPath),
            names: [ConfigWatch.baseName(configPath), ConfigWatch.baseName(dropInDirectory)], into: &wanted)
        add(dropInDirectory, names: nil, into: &wanted)
        for directory in profileDirectories { add(directory, names: nil, into: &wanted) }
        for stale in watches.keys where wanted[stale] == nil { inotify.remove(stale) }
        watches = wanted
    }

    /// What these events mean for the config and profiles; `now` is CLOCK_MONOTONIC in µs.
    func assess(_ events: [Inotify.Event], now: UInt64) -> Assessment {
        var result = Assessment()
        for event in events {
            if event.mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0, watches[event.watch] != nil {
                (result.reload, result.rearm, result.touched) = (true, true, true)
                continue
            }
            for interest in watches[event.watch] ?? [] {
                let named = interest.names.map { $0.contains(event.name) }
                    ?? (event.name.hasSuffix(".conf") && !event.name.hasPrefix("."))
                guard named else { continue }
                result.touched = true
                let file = "\(event.watch)/\(event.name)"
                if interest.placeholder || event.mask & UInt32(IN_ISDIR) != 0 {
                    (result.reload, result.rearm) = (true, true)
                } else if event.mask & UInt32(IN_MODIFY) != 0 {
                    if writing[file] == nil { writing[file] = now }
                    result.writtenInPlace = true
                } else if event.mask & UInt32(IN_CREATE) != 0 {
                    // A new file is still empty at IN_CREATE: its IN_CLOSE_WRITE follows.
                    result.writtenInPlace = true
                } else {
                    // Finished, renamed or removed.
                    if event.mask & UInt32(IN_CLOSE_WRITE) != 0 { result.writtenInPlace = true }
                    writing[file] = nil
                    result.reload = true
                }
            }
        }
        return result
    }

    /// When the oldest unfinished write will have had its grace period, or `nil` if no
    /// relevant file is being written: a reload waits until then.
    func writesSettle(after now: UInt64) -> UInt64? {
        guard let oldest = writing.values.min() else { return nil }
        let deadline = oldest + ConfigWatch.writeGrace
        if deadline <= now {
            writing = [:]   // a writer that never closes: go ahead, validation does its best
            return nil
        }
        return deadline
    }

    /// Watches `directory`, or, while it is missing, its nearest existing parent for the
    /// child on the way to it.
    private func add(_ directory: String, names: Set<String>?, into wanted: inout [Int32: [Interest]]) {
        var target = directory
        var interest = Interest(names: names, placeholder: false)
        while true {
            if let watch = try? inotify.add(target, mask: ConfigWatch.mask | UInt32(IN_MASK_ADD)) {
                wanted[watch, default: []].append(interest)
                return
            }
            if target == "/" || target == "." { return }
            interest = Interest(names: [ConfigWatch.baseName(target)], placeholder: true)
            target = ConfigWatch.directoryName(target)
        }
    }

    static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func baseName(_ path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }
}
