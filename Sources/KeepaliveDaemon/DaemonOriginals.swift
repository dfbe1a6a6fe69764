#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS

/// The values found at the first start of this boot, kept in the runtime directory so that
/// `restore-on-stop` puts back the real originals even after a crash or a restart.
extension Daemon {
    /// The originals in force for this daemon, and where they are kept.
    struct Remembered {
        let values: KeepaliveValues
        /// When they were found (wall clock, seconds).
        let savedAt: Int
        let store: OriginalsStore
    }

    /// The originals saved earlier in this boot, or (first start, or a file that cannot be
    /// trusted) the values in force now, saved before anything is written. `nil` only if
    /// the values cannot be read (the start's apply then reports why).
    func recallOriginals(tree: SysctlTree, netns: UInt64) -> Remembered? {
        let store = OriginalsStore(directory: setup.runtimeDirectory, syscalls: syscalls, strictModes: setup.strictModes)
        let boot = OriginalsStore.bootID(syscalls: syscalls)
        var kept: [UInt64: KeepaliveValues] = [:]
        switch store.load(boot: boot) {
        case .found(let originals):
            if let values = originals.values[netns] { return Remembered(values: values, savedAt: originals.savedAt, store: store) }
            kept = originals.values
        case .rejected(let reason, let movedTo):
            log.record(.originalsRejected, "\(store.path) cannot be trusted: \(reason); \(movedTo.map { "renamed aside to \($0); " } ?? "")nothing is restored from it, and the values found now are taken as the originals",
                       fields: ["ORIGINALS_FILE": store.path])
        case .missing:
            break
        }
        guard let current = try? tree.readAll() else { return nil }
        kept[netns] = current
        let now = Int(time(nil))
        if let error = store.save(Originals(boot: boot, savedAt: now, values: kept)) {
            log.record(.originalsNotSaved, "cannot save the values found at start in \(store.path): \(error); after a crash or restart, restore-on-stop will only know the values found then",
                       fields: ["ORIGINALS_FILE": store.path])
        }
        return Remembered(values: current, savedAt: now, store: store)
    }
}

/// The saved originals of every managed namespace, kept in memory and written to the same
/// file as the daemon's own (``OriginalsStore``) at most once per turn of the loop, however
/// many namespaces were adopted in it.
final class OriginalsBook {
    private let store: OriginalsStore
    private let boot: String
    private var values: [UInt64: KeepaliveValues]
    /// Something changed since the last write that succeeded.
    private var dirty = false
    /// The last write failed (and was reported): later failures are not reported again.
    private var failing = false

    /// The book over `store`, holding what it holds now (the daemon's own entry included).
    init(store: OriginalsStore, syscalls: Syscalls) {
        self.store = store
        boot = OriginalsStore.bootID(syscalls: syscalls)
        if case .found(let originals) = store.load(boot: boot, setAside: false) {
            values = originals.values
        } else {
            values = [:]
        }
    }

    /// The values saved for namespace `inode` earlier in this boot (a restart), or else
    /// those `tree` reads now, recorded before anything is written.
    func recall(_ inode: UInt64, tree: SysctlTree) -> KeepaliveValues? {
        if let saved = values[inode] { return saved }
        guard let current = try? tree.readAll() else { return nil }
        values[inode] = current
        dirty = true
        return current
    }

    /// Drops a namespace's entry (it ended, or was restored).
    func forget(_ inode: UInt64) {
        if values.removeValue(forKey: inode) != nil { dirty = true }
    }

    /// Writes the file if anything changed since the last write that succeeded: a write that
    /// failed is tried again at the next flush. The first failure of a run of them is
    /// reported, not each turn's.
    func flush(log: EventLog) {
        guard dirty else { return }
        if let error = store.save(Originals(boot: boot, savedAt: Int(time(nil)), values: values)) {
            if !failing {
                log.record(.originalsNotSaved, "cannot save the originals of managed namespaces in \(store.path): \(error); it is tried again at each change and turn, and until it succeeds, a crash or restart leaves restore-on-stop only the values found then",
                           fields: ["ORIGINALS_FILE": store.path])
            }
            failing = true
            return
        }
        dirty = false
        failing = false
    }
}
