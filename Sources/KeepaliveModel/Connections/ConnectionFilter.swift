/// Which connections a command looks at: `--pid`, `--unit`, `--port`, `--state`,
/// `--idle-over`, `--never-reaped`. Each kind given narrows the selection; values of one
/// kind are alternatives.
public struct ConnectionFilter: Sendable, Hashable {
    public var pids: [Int32] = []
    /// `--unit`: system units by glob, or users' units (``UnitSelector``).
    public var units: [UnitSelector] = []
    /// Local or remote port.
    public var ports: [Int] = []
    public var states: [SocketRecord.State] = []
    public var idleOverSeconds: Int?
    public var neverReaped = false

    public init() {}

    /// Whether it names processes (pid, unit or port), as `--enable-keepalive` requires.
    public var namesProcesses: Bool { !pids.isEmpty || !units.isEmpty || !ports.isEmpty }

    /// Whether `connection` is selected: every kind given matches it.
    public func matches(_ connection: AuditedConnection) -> Bool {
        if !pids.isEmpty && !connection.pids.contains(where: pids.contains) { return false }
        if !units.isEmpty && !units.contains(where: { $0.matches(connection.unitIdentity) }) { return false }
        if !ports.isEmpty && !ports.contains(connection.socket.localPort) && !ports.contains(connection.socket.remotePort) { return false }
        if !states.isEmpty && !states.contains(connection.socket.record.state) { return false }
        if let idleOverSeconds, (connection.idleSeconds ?? 0) <= idleOverSeconds { return false }
        if neverReaped && !connection.neverReaped { return false }
        return true
    }

    /// Whether a listening socket held by `process` on local port `port` is selected (for
    /// `--enable-keepalive`: the connections it accepts later inherit keepalive).
    public func selectsListener(process: HolderProcess?, pid: Int32, port: Int) -> Bool {
        if !ports.isEmpty && !ports.contains(port) { return false }
        return namesProcesses && selectsHolder(process: process, pid: pid)
    }

    /// Whether `process` (PID `pid`) is one the `--pid` and `--unit` values name; any process
    /// when neither is given (a port selects sockets, not processes). `--enable-keepalive`
    /// acts on a shared socket only through such a holder, never through another one.
    public func selectsHolder(process: HolderProcess?, pid: Int32) -> Bool {
        if !pids.isEmpty && !pids.contains(pid) { return false }
        if !units.isEmpty && !units.contains(where: { $0.matches(process?.unitIdentity) }) { return false }
        return true
    }

    /// A state as users write it: `established`, `ESTAB`, `close-wait`, `CLOSE_WAIT`, `time-wait`...
    public static func state(named text: String) -> SocketRecord.State? {
        let wanted = String(text.asciiLowercased.filter { $0 != "-" && $0 != "_" })
        if wanted == "estab" { return .established }
        if wanted == "synrecv" || wanted == "synreceived" { return .synReceived }
        return SocketRecord.State.allCases.first { $0.name.asciiLowercased.filter { $0 != "-" } == wanted }
    }
}
