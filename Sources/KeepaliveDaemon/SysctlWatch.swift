#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS

/// The inotify watches on the three keepalive files: the fast drift hint.
///
/// A key can be paused: while it is contested and left alone, its watch is removed, so a
/// process that keeps rewriting the value does not wake the daemon at all. Its drift is
/// then seen only by the periodic re-read, and the watch is added back when the back-off
/// ends.
final class SysctlWatch {
    private let inotify: Inotify
    private let tree: SysctlTree
    /// The watch of each key that has one.
    private var watches: [Tunable: Int32] = [:]

    /// Creates the watches; `failed` is called for each file that cannot be watched (its
    /// drift is then found by the re-read alone).
    init(inotify: Inotify, tree: SysctlTree, failed: (Tunable, Errno) -> Void) {
        self.inotify = inotify
        self.tree = tree
        for key in Tunable.allCases {
            if let error = add(key) { failed(key, error) }
        }
    }

    /// The watches go with the target (a namespace released or ended): none is left behind
    /// in the daemon's inotify instance.
    deinit {
        for watch in watches.values { inotify.remove(watch) }
    }

    /// Whether an event on `watch` is a write to one of the three files.
    func isSysctl(_ watch: Int32) -> Bool { watches.values.contains(watch) }

    /// The watches there are now (a paused key has none).
    var descriptors: [Int32] { Array(watches.values) }

    /// Whether `key`'s file is watched now (not paused, and watchable).
    func isWatching(_ key: Tunable) -> Bool { watches[key] != nil }

    /// Removes `key`'s watch until ``resume(_:)``.
    func pause(_ key: Tunable) {
        guard let watch = watches.removeValue(forKey: key) else { return }
        inotify.remove(watch)
    }

    /// Adds `key`'s watch back; returns the error if the file cannot be watched.
    @discardableResult
    func resume(_ key: Tunable) -> Errno? {
        watches[key] == nil ? add(key) : nil
    }

    private func add(_ key: Tunable) -> Errno? {
        do {
            watches[key] = try inotify.add(tree.watchPath(for: key), mask: UInt32(IN_MODIFY))
            return nil
        } catch {
            return error
        }
    }
}
