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
        /// The book that keeps them, with the managed namespaces' (``Fleet``).
        let book: OriginalsBook
        /// The daemon's own namespace, their key in the book.
        let netns: UInt64
    }

    /// The originals saved earlier in this boot, or (first start, or a file that cannot be
    /// trusted) the values in force now, saved before anything is written. `nil` only if
    /// the values cannot be read (the start's apply then reports why).
    func recallOriginals(tree: SysctlTree, netns: UInt64) -> Remembered? {
        let store = OriginalsStore(directory: setup.runtimeDirectory, syscalls: syscalls, strictModes: setup.strictModes)
        let book = OriginalsBook(store: store, boot: OriginalsStore.bootID(syscalls: syscalls), log: log)
        let saved = book.savedAt(netns)
        guard let values = book.recall(netns, tree: tree) else { return nil }
        book.flush()
        return Remembered(values: values, savedAt: saved ?? Int(time(nil)), book: book, netns: netns)
    }

    /// After a clean restore-on-stop: takes the daemon's own entry out of the file, and
    /// only that one (another daemon may share the file).
    func forgetOriginals(_ remembered: Remembered) {
        remembered.book.forget(remembered.netns)
        remembered.book.flush()
    }
}

/// The saved originals of the daemon's own namespace and of every managed one, kept in
/// memory and written to the file (``OriginalsStore``) at most once per turn of the loop,
/// however many namespaces were adopted in it.
///
/// Other daemons may share the file. A write is a read-modify-write under the apply lock
/// (``OriginalsStore/update(boot:_:)``): the entries this book recalled are put in, those it
/// forgot taken out, and every other entry is left as the file has it then.
final class OriginalsBook {
    private let store: OriginalsStore
    private let boot: String
    private let log: EventLog
    /// What the file held at the start, and the entries recalled since, by namespace.
    private var values: [UInt64: KeepaliveValues]
    /// When the file found at the start was saved.
    private let loadedAt: Int?
    /// The entries this book recalled (the daemon's own and its members'), put in the file
    /// at each write unless the file has them already.
    private var mine: Set<UInt64> = []
    /// The entries forgotten since the last write that succeeded, to take out of the file.
    private var dropped: Set<UInt64> = []
    /// Something changed since the last write that succeeded.
    private var dirty = false
    /// The last write failed (and was reported): later failures are not reported again.
    private var failing = false

    /// The book over `store`, holding what it holds now. A file that cannot be trusted is
    /// set aside and reported (`originals-rejected`); the book then starts empty.
    init(store: OriginalsStore, boot: String, log: EventLog) {
        self.store = store
        self.boot = boot
        self.log = log
        switch store.load(boot: boot) {
        case .found(let originals):
            values = originals.values
            loadedAt = originals.savedAt
        case .rejected(let reason, let movedTo):
            values = [:]
            loadedAt = nil
            reportRejected(reason, movedTo: movedTo)
        case .unreadable(let reason):
            values = [:]
            loadedAt = nil
            log.record(.originalsRejected, "\(store.path) cannot be read now: \(reason); it is left as it is, nothing is restored from it, and the values found now are taken as the originals",
                       fields: ["ORIGINALS_FILE": store.path])
        case .missing:
            values = [:]
            loadedAt = nil
        }
    }

    /// The file's path.
    var path: String { store.path }

    /// When the entry of namespace `inode` was saved, if the file held it at the start.
    func savedAt(_ inode: UInt64) -> Int? { values[inode] != nil ? loadedAt : nil }

    /// The values saved for namespace `inode` earlier in this boot (a restart), or else
    /// those `tree` reads now, recorded before anything is written.
    func recall(_ inode: UInt64, tree: SysctlTree) -> KeepaliveValues? {
        if let saved = values[inode] {
            mine.insert(inode)
            return saved
        }
        guard let current = try? tree.readAll() else { return nil }
        values[inode] = current
        mine.insert(inode)
        dirty = true
        return current
    }

    /// Drops a namespace's entry (it ended, was released, or was restored).
    func forget(_ inode: UInt64) {
        mine.remove(inode)
        if values.removeValue(forKey: inode) != nil {
            dropped.insert(inode)
            dirty = true
        }
    }

    /// Writes the file if anything changed since the last write that succeeded: a write that
    /// failed is tried again at the next flush. The first failure of a run of them is
    /// reported, not each turn's.
    func flush() {
        guard dirty else { return }
        let (mine, dropped, values) = (self.mine, self.dropped, self.values)
        let outcome = store.update(boot: boot) { entries in
            for inode in dropped { entries[inode] = nil }
            // An entry the file has is older than any found since: it stays.
            for inode in mine where entries[inode] == nil { entries[inode] = values[inode] }
        }
        switch outcome {
        case .success(let rejection):
            if let rejection { reportRejected(rejection.reason, movedTo: rejection.movedTo) }
            self.dropped = []
            dirty = false
            failing = false
        case .failure(let failure):
            if !failing {
                log.record(.originalsNotSaved, "cannot save the originals in \(store.path): \(failure); it is tried again at each change and turn, and until it succeeds, a crash or restart leaves restore-on-stop only the values found then",
                           fields: ["ORIGINALS_FILE": store.path])
            }
            failing = true
        }
    }

    private func reportRejected(_ reason: String, movedTo: String?) {
        log.record(.originalsRejected, "\(store.path) cannot be trusted: \(reason); \(movedTo.map { "renamed aside to \($0); " } ?? "")nothing is restored from it, and the values found now are taken as the originals",
                   fields: ["ORIGINALS_FILE": store.path])
    }
}
