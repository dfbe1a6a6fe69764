import KeepaliveModel
import KeepaliveOS
#if canImport(Glibc)
import Glibc
#endif

/// `connections --all-namespaces`: the audit of each network namespace found, one after
/// another. On a host where containers come and go, a namespace found may end before its
/// turn: it is skipped, noted (`not seen:`, and the JSON's top-level `not_seen`), and the
/// others are audited. Only a namespace still there that cannot be audited is a failure.
extension ConnectionsCommand {
    /// Each namespace found, under a heading (text) or as one member of `namespaces` (JSON).
    /// `--check` fails if any fails.
    func runInEveryNamespace(filter: ConnectionFilter, depth: ConnectionScanner.Depth, enabling: Bool) throws {
        let found = NamespaceDiscovery(syscalls: syscalls).scan(processes: true)
        TestPause.afterDiscovery.wait()
        let json = arguments.flag(GlobalOptions.json)
        var documents: [JSONValue] = [], notSeen: [String] = []
        var failing = false
        for identity in found.identities.values.sorted(by: { ($0.isOwn ? 0 : 1, $0.inode) < ($1.isOwn ? 0 : 1, $1.inode) }) {
            let label = identity.isOwn ? ("host", "(this namespace)") : identity.label
            let heading = "network namespace \(identity.inode) (\(label.0) \(label.1))"
            if !json { Swift.print("== \(heading)") }
            guard let input = try identity.isOwn ? gather(depth: depth, in: nil) : gather(depth: depth, in: identity, by: found.entries[identity.inode]) else {
                let note = "\(heading): it ended after it was found, before its turn; skipped"
                notSeen.append(note)
                if !json { Swift.print("not seen: \(note)\n") } else if enabling { Output.error("keepalived-tune: not seen: \(note)") }
                continue
            }
            let audit = ConnectionAudit(input)
            if enabling {
                try ConnectionsRetrofit(audit: audit, input: input, filter: filter, syscalls: syscalls, dryRun: arguments.flag(Self.dryRun), json: json).run()
                continue
            }
            let selected = audit.connections.filter(filter.matches)
            failing = failing || selected.contains(where: \.neverReaped)
            let report = ConnectionsReport(audit: audit, selected: selected, filter: filter)
            if json {
                documents.append(.object(["inode": .int(Int(identity.inode)), "kind": .string(label.0), "name": .string(label.1),
                                          "audit": report.json]))
            } else {
                report.print(all: arguments.flag(Self.all))
                Swift.print("")
            }
        }
        if json && !enabling {
            Output.json(.object(["namespaces": .array(documents), "not_seen": .array(notSeen.map(JSONValue.string))]))
        }
        if arguments.flag(Self.check) && failing { throw ExitStatus.drift }
    }

    /// The audit's input in the namespace `identity`, entered by `path`; `nil` when it has
    /// ended since it was found: there is no path to it, the path leads nowhere (ENOENT,
    /// ESRCH: its last process exited, its pin was removed) or to another namespace now (a
    /// PID reused). The namespace is checked on the descriptor opened, the one entered.
    func gather(depth: ConnectionScanner.Depth, in identity: NamespaceIdentity, by path: String?) throws -> AuditInput? {
        guard let path else { return nil }
        let fd: Int32
        switch syscalls.open(path, O_RDONLY) {
        case .success(let opened): fd = opened
        case .failure(let error) where error.code == ENOENT || error.code == ESRCH: return nil
        case .failure(let error):
            throw Self.cannotEnter(identity, path, error)
        }
        defer { syscalls.close(fd) }
        guard case .success(let status) = syscalls.fstat(fd), status.inode == identity.inode else { return nil }
        switch NetworkNamespace.run(descriptor: fd, syscalls: syscalls, { ConnectionScanner(syscalls: syscalls).gather(depth: depth) }) {
        case .success(let outcome): return try Self.input(outcome)
        case .failure(let error):
            throw Self.cannotEnter(identity, path, error)
        }
    }

    /// Says that namespace `identity` cannot be entered by `path`; the exit status to throw.
    static func cannotEnter(_ identity: NamespaceIdentity, _ path: String, _ error: Errno) -> ExitStatus {
        Output.error("keepalived-tune: \(NetworkNamespace.Failure(target: String(identity.inode), path: path, errno: error))")
        return .systemFailure
    }
}
