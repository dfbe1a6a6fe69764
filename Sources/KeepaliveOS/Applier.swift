import KeepaliveModel

/// The outcome of applying a set of values: all of them in force, or none changed.
///
/// It is a plain value, so the command line prints it and the daemon logs it; a failed one
/// serves as an error.
public struct ApplyReport: Sendable, Hashable, Error {
    /// The values that were to be put in force.
    public let target: KeepaliveValues
    /// The values found before anything was written; `nil` if they could not be read.
    public let before: KeepaliveValues?
    /// The keys that were written, each from its `actual` (old) to its `expected` (new)
    /// value; empty when nothing changed or when the apply failed and was rolled back.
    public let changes: [ValueDifference]
    /// Every failure, in the order met: reads, writes, read-backs, then restores.
    public let failures: [SysctlFailure]
    /// The keys put back to their earlier values after a failure.
    public let restored: [Tunable]

    /// Whether every value is now in force.
    public var succeeded: Bool { failures.isEmpty }

    /// Whether any failure left a key neither at its new nor at its old value.
    public var leftInconsistent: Bool { failures.contains { $0.operation == .restore } }
}

/// Puts values in force all or nothing.
///
/// 1. Read the current values; if any read fails, write nothing.
/// 2. Skip keys that already match.
/// 3. Write each remaining key, then read it back.
/// 4. If any write or read-back failed, write the earlier values back to every key that
///    was touched, and report each failure with its key, value, path and errno.
public enum Applier {
    /// Applies `target` through `tree`, holding the tree's apply lock (if it has one) from
    /// the first read to the last read-back, so that no other writer interleaves. Touches
    /// only the three keepalive files. A command passes `record`, left in the lock file.
    public static func apply(_ target: KeepaliveValues, to tree: SysctlTree, record: WriterRecord? = nil) -> ApplyReport {
        guard let lock = tree.lock else { return applyLocked(target, to: tree) }
        switch lock.withLock(record: record, { applyLocked(target, to: tree) }) {
        case .success(let report): return report
        case .failure(let failure):
            return ApplyReport(target: target, before: nil, changes: [], failures: [lockFailure(failure, tree)], restored: [])
        }
    }

    /// The failure to report when the lock cannot be taken.
    private static func lockFailure(_ failure: ApplyLock.Failure, _ tree: SysctlTree) -> SysctlFailure {
        SysctlFailure(key: .time, path: failure.path, operation: .lock, errno: failure.errno,
                      detail: failure.errno == nil ? failure.description : nil)
    }

    /// ``apply(_:to:record:)`` once the lock is held.
    private static func applyLocked(_ target: KeepaliveValues, to tree: SysctlTree) -> ApplyReport {
        let before: KeepaliveValues
        do {
            before = try tree.readAll()
        } catch {
            return ApplyReport(target: target, before: nil, changes: [], failures: [error], restored: [])
        }
        let plan = before.differences(from: target)
        var failures: [SysctlFailure] = []
        var touched: [Tunable] = []
        for change in plan {
            touched.append(change.key)
            do {
                try tree.write(change.key, change.expected)
                let kept = try tree.read(change.key)
                if kept != change.expected {
                    failures.append(SysctlFailure(
                        key: change.key, path: tree.path(for: change.key), operation: .readBack,
                        value: change.expected, detail: "it reads back as \(kept)"))
                }
            } catch {
                failures.append(error)
            }
        }
        guard !failures.isEmpty else {
            return ApplyReport(target: target, before: before, changes: plan, failures: [], restored: [])
        }
        let (restored, restoreFailures) = restoreLocked(touched, to: before, in: tree)
        return ApplyReport(target: target, before: before, changes: [],
                           failures: failures + restoreFailures, restored: restored)
    }

    /// Writes `values` back to `keys` where they differ now (`restore-on-stop`), holding
    /// the apply lock.
    public static func restore(_ keys: [Tunable], to values: KeepaliveValues,
                               in tree: SysctlTree) -> (restored: [Tunable], failures: [SysctlFailure]) {
        guard let lock = tree.lock else { return restoreLocked(keys, to: values, in: tree) }
        switch lock.withLock({ restoreLocked(keys, to: values, in: tree) }) {
        case .success(let outcome): return outcome
        case .failure(let failure): return ([], [lockFailure(failure, tree)])
        }
    }

    /// Writes `values` back to `keys` where they differ now; the lock is held (a rollback
    /// inside an apply, or ``restore(_:to:in:)``).
    private static func restoreLocked(_ keys: [Tunable], to values: KeepaliveValues,
                                      in tree: SysctlTree) -> (restored: [Tunable], failures: [SysctlFailure]) {
        var restored: [Tunable] = []
        var failures: [SysctlFailure] = []
        for key in keys {
            // An unreadable key is written anyway: a failed write may have left it empty.
            if (try? tree.read(key)) == values[key] { continue }
            do {
                try tree.write(key, values[key])
                restored.append(key)
            } catch {
                var failure = error
                failure.operation = .restore
                failure.value = values[key]
                failures.append(failure)
            }
        }
        return (restored, failures)
    }
}
