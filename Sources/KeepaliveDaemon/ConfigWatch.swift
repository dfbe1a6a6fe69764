#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS

/// Watches the config file, its drop-in directory and the profile directories with
/// inotify, and classifies what it sees for the reload gate (``ReloadGate``): a finished
/// write, a rename or a deletion calls for a reload; a modified file not yet closed is a
/// write in progress.
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

    /// What a batch of events means: the change for the reload gate, and whether a
    /// watched directory appeared, vanished or moved (re-arm the watches).
    struct Assessment {
        var change = ConfigChange()
        var rearm = false
    }

    private let syscalls: Syscalls

    init(inotify: Inotify, configPath: String, dropInDirectory: String, profileDirectories: [String],
         syscalls: Syscalls) {
        self.inotify = inotify
        self.configPath = configPath
        self.dropInDirectory = dropInDirectory
        self.profileDirectories = profileDirectories
        self.syscalls = syscalls
    }

    /// Sets up every watch; call at start, and again when directories or links may have
    /// appeared, vanished or changed.
    ///
    /// Each path is followed as the kernel follows it (``PathWalk``): every symlink on the
    /// way is watched in the directory holding it (a change re-arms and reloads: a
    /// ConfigMap's `..data` swapped by rename), and the real entry is watched where it
    /// really is. Watches that are still wanted are kept (adding a watched inode again
    /// returns the same watch), so no event is lost while re-arming; only stale ones are
    /// removed.
    func arm() {
        var wanted: [Int32: [Interest]] = [:]
        watchEntry(configPath, into: &wanted)
        for directory in [dropInDirectory] + profileDirectories {
            if let real = watchEntry(directory, into: &wanted) { add(real, names: nil, into: &wanted) }
        }
        for stale in watches.keys where wanted[stale] == nil { inotify.remove(stale) }
        watches = wanted
    }

    /// Watches every link on the way to `path`, and the directory holding its real entry
    /// for that entry's name; returns the real path (`nil` if it cannot be resolved, when
    /// the path's own directory is watched as named).
    @discardableResult
    private func watchEntry(_ path: String, into wanted: inout [Int32: [Interest]]) -> String? {
        let walk = PathWalk.resolve(path, syscalls: syscalls)
        for link in walk.links { add(link.directory, names: [link.name], placeholder: true, into: &wanted) }
        let entry = walk.real ?? path
        add(PathWalk.directory(of: entry), names: [PathWalk.name(of: entry)], into: &wanted)
        return walk.real
    }

    /// What these events mean for the config and profiles.
    func assess(_ events: [Inotify.Event]) -> Assessment {
        var result = Assessment()
        for event in events {
            if event.mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0, watches[event.watch] != nil {
                (result.change.finished, result.rearm, result.change.touched) = (true, true, true)
                continue
            }
            for interest in watches[event.watch] ?? [] {
                let named = interest.names.map { $0.contains(event.name) }
                    ?? (event.name.hasSuffix(".conf") && !event.name.hasPrefix("."))
                guard named else { continue }
                result.change.touched = true
                let file = "\(event.watch)/\(event.name)"
                if interest.placeholder || event.mask & UInt32(IN_ISDIR) != 0 {
                    (result.change.finished, result.rearm) = (true, true)
                } else if event.mask & UInt32(IN_MODIFY) != 0 {
                    result.change.writesEnded.remove(file)   // the later event wins
                    result.change.writesStarted.insert(file)
                    result.change.writtenInPlace = true
                } else if event.mask & UInt32(IN_CREATE) != 0 {
                    // A new file is still empty at IN_CREATE: its IN_CLOSE_WRITE follows.
                    result.change.writtenInPlace = true
                } else {
                    // Finished, renamed or removed.
                    if event.mask & UInt32(IN_CLOSE_WRITE) != 0 { result.change.writtenInPlace = true }
                    result.change.writesStarted.remove(file)
                    result.change.writesEnded.insert(file)
                    result.change.finished = true
                }
            }
        }
        return result
    }

    /// Watches `directory` for `names` (`nil`: any `*.conf`), or, while it is missing, its
    /// nearest existing parent for the child on the way to it. A `placeholder` interest
    /// (a link on the way, a missing directory) re-arms and reloads on any event.
    private func add(_ directory: String, names: Set<String>?, placeholder: Bool = false,
                     into wanted: inout [Int32: [Interest]]) {
        var target = directory
        var interest = Interest(names: names, placeholder: placeholder)
        while true {
            if let watch = try? inotify.add(target, mask: ConfigWatch.mask | UInt32(IN_MASK_ADD)) {
                wanted[watch, default: []].append(interest)
                return
            }
            if target == "/" || target == "." { return }
            interest = Interest(names: [PathWalk.name(of: target)], placeholder: true)
            target = PathWalk.directory(of: target)
        }
    }
}
