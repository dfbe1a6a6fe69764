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
        /// When they were found (wall clock, seconds): at the first start of this boot.
        let foundAt: Int
        /// The book that keeps them, with the managed namespaces' (``Fleet``).
        let book: OriginalsBook
        /// The daemon's own namespace, their key in the book.
        let key: Originals.Key
    }

    /// The originals saved earlier in this boot for this daemon's namespace (`netns`, and
    /// its cookie, read here on the main thread), or (first start, or a file that cannot be
    /// trusted) the values in force now, saved before anything is written. `nil` only if the
    /// values cannot be read (the start's apply then reports why).
    func recallOriginals(tree: SysctlTree, netns: UInt64) -> Remembered? {
        let store = OriginalsStore(directory: setup.runtimeDirectory, syscalls: syscalls, strictModes: setup.strictModes)
        let book = OriginalsBook(store: store, boot: OriginalsStore.bootID(syscalls: syscalls), log: log)
        let key = Originals.Key(inode: netns, cookie: NetworkNamespace.cookie(syscalls: syscalls))
        guard let record = book.recall(key, tree: tree) else { return nil }
        book.flush()
        return Remembered(values: record.values, foundAt: record.foundAt, book: book, key: key)
    }

    /// After a clean restore-on-stop: takes the daemon's own entry out of the file, and
    /// only that one (another daemon may share the file).
    func forgetOriginals(_ remembered: Remembered) {
        remembered.book.forget(remembered.key.inode)
        remembered.book.flush()
    }
}

/// The saved originals of the daemon's own namespace and of every managed one, kept in
/// memory and written to the file (``OriginalsStore``) at most once per turn of the loop,
/// however many namespaces were adopted in it.
///
/// Records are keyed by inode and cookie (``Originals/Key``), so a namespace is never given
/// the record of one that had its inode before. When a namespace is recalled, the records of
/// its inode under other cookies are dropped: two live namespaces never share an inode, so
/// those namespaces have ended (while the daemon was down, or unseen).
///
/// Other daemons may share the file. A write is a read-modify-write under the apply lock
/// (``OriginalsStore/update(boot:_:)``): the records this book recalled are put in, those it
/// forgot or found ended taken out, and every other record is left as the file has it then.
final class OriginalsBook {
    private let store: OriginalsStore
    private let boot: String
    private let log: EventLog
    /// What the file held at the start, and the records found since: by inode, then cookie.
    private var records: [UInt64: [UInt64: Originals.Record]]
    /// The key this book recalled for each inode (the daemon's own namespace and its
    /// members), put in the file at each write unless the file has it already.
    private var mine: [UInt64: Originals.Key] = [:]
    /// Records forgotten since the last write that succeeded, to take out of the file.
    private var dropped: Set<Originals.Key> = []
    /// Namespaces recalled since the last write that succeeded, by inode: any record of
    /// the inode under another cookie is of one that ended, and is taken out of the file.
    private var superseded: [UInt64: UInt64] = [:]
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
        records = [:]
        switch store.load(boot: boot) {
        case .found(let originals):
            for (key, record) in originals.records { records[key.inode, default: [:]][key.cookie] = record }
        case .rejected(let reason, let movedTo):
            reportRejected(reason, movedTo: movedTo)
        case .unreadable(let reason):
            log.record(.originalsRejected, "\(store.path) cannot be read now: \(reason); it is left as it is, nothing is restored from it, and the values found now are taken as the originals",
                       fields: ["ORIGINALS_FILE": store.path])
        case .missing:
            break
        }
    }

    /// The file's path.
    var path: String { store.path }

    /// The record saved for namespace `key` earlier in this boot (a restart), or else the
    /// values `tree` reads now, recorded (found now) before anything is written. Records of
    /// the same inode under another cookie are dropped (their namespaces ended); with a
    /// cookie of 0 (none could be read), nothing is dropped.
    func recall(_ key: Originals.Key, tree: SysctlTree) -> Originals.Record? {
        let saved = records[key.inode]?[key.cookie]
        var record: Originals.Record
        if let saved {
            record = saved
        } else {
            guard let current = try? tree.readAll() else { return nil }
            record = Originals.Record(values: current, foundAt: Int(time(nil)))
            dirty = true
        }
        if key.cookie != 0 {
            let ended = records[key.inode, default: [:]].keys.filter { $0 != key.cookie }
            for cookie in ended { dropped.insert(Originals.Key(inode: key.inode, cookie: cookie)) }
            records[key.inode] = [:]
            superseded[key.inode] = key.cookie
            dirty = dirty || !ended.isEmpty
        }
        records[key.inode, default: [:]][key.cookie] = record
        mine[key.inode] = key
        return record
    }

    /// Drops the record this book recalled for namespace `inode` (it ended, was released,
    /// or was restored).
    func forget(_ inode: UInt64) {
        guard let key = mine.removeValue(forKey: inode) else { return }
        records[inode]?[key.cookie] = nil
        superseded[inode] = nil
        dropped.insert(key)
        dirty = true
    }

    /// Writes the file if anything changed since the last write that succeeded: a write that
    /// failed is tried again at the next flush. The first failure of a run of them is
    /// reported, not each turn's.
    func flush() {
        guard dirty else { return }
        let (dropped, superseded) = (self.dropped, self.superseded)
        let mine = self.mine.values.compactMap { key in records[key.inode]?[key.cookie].map { (key, $0) } }
        let outcome = store.update(boot: boot) { entries in
            if !superseded.isEmpty {
                for key in Array(entries.keys) where superseded[key.inode].map({ $0 != key.cookie }) == true { entries[key] = nil }
            }
            for key in dropped { entries[key] = nil }
            // A record the file has is older than any found since: it stays.
            for (key, record) in mine where entries[key] == nil { entries[key] = record }
        }
        switch outcome {
        case .success(let rejection):
            if let rejection { reportRejected(rejection.reason, movedTo: rejection.movedTo) }
            self.dropped = []
            self.superseded = [:]
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
