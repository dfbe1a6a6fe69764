/// Which sockets `--enable-keepalive` (and the daemon's `enable-keepalive` units) turn
/// keepalive on for: pure selection, so that what is never touched is decided and tested
/// here.
///
/// - Only connections a filter that names processes selects (a PID, a unit or a port);
///   never an unfiltered sweep.
/// - Only ESTABLISHED and CLOSE-WAIT connections (the states keepalive can still end)
///   whose keepalive is not known to be on.
/// - The selected processes' listening sockets too: connections they accept later
///   inherit SO_KEEPALIVE.
/// - A socket several processes hold is reached only through the ones the filter names.
public struct RetrofitPlan: Sendable {
    /// One socket to give keepalive, through one of its holders' descriptors.
    public struct Target: Sendable, Hashable {
        public let socket: DiagSocket
        /// The holders the filter names (any holder when it names no process), in scan order:
        /// the only ones it is reached through.
        public let holders: [SocketHolder]
        public let command: String?
        public let unit: String?
        public var isListener: Bool { socket.record.state == .listen }
    }

    public let targets: [Target]

    /// The plan for `filter` over `audit`, and the namespace's listening sockets.
    /// An empty plan when the filter names no process.
    public init(audit: ConnectionAudit, listeners: [DiagSocket], holders: [UInt64: [SocketHolder]], filter: ConnectionFilter) {
        guard filter.namesProcesses else {
            targets = []
            return
        }
        let connections = audit.connections.compactMap { connection -> Target? in
            guard [.established, .closeWait].contains(connection.socket.record.state), connection.keepalive != "on",
                  filter.matches(connection) else { return nil }
            // A socket shared after fork() or over SCM_RIGHTS: only through the holders named.
            let selected = connection.holders.filter { filter.selectsHolder(process: audit.processes[$0.pid], pid: $0.pid) }
            guard let first = selected.first else { return nil }
            let process = audit.processes[first.pid]
            return Target(socket: connection.socket, holders: selected, command: process?.command ?? connection.command,
                          unit: process?.unit ?? connection.unit)
        }
        let servers = listeners.compactMap { listener -> Target? in
            guard listener.record.state == .listen, listener.record.inode != 0,
                  let held = holders[listener.record.inode] else { return nil }
            let selected = held.filter { holder in
                filter.selectsListener(process: audit.processes[holder.pid], pid: holder.pid, port: listener.localPort)
            }
            guard let first = selected.first else { return nil }
            let process = audit.processes[first.pid]
            return Target(socket: listener, holders: selected, command: process?.command, unit: process?.unit)
        }
        targets = servers + connections
    }
}
