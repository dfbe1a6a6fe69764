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
