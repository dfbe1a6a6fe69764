import KeepaliveModel

/// What `connections` prints: the summary by process (or every connection with `--all`),
/// the dead sockets still held, what could not be seen, and one line saying what to do.
struct ConnectionsReport {
    let audit: ConnectionAudit
    let selected: [AuditedConnection]
    let summary: [ProcessSummary]
    let dead: [DeadSocket]

    init(audit: ConnectionAudit, selected: [AuditedConnection], filter: ConnectionFilter) {
        self.audit = audit
        self.selected = selected
        summary = ConnectionAudit.summary(selected, processes: audit.processes)
        // A dead socket has no ports or state left: only the PID and unit filters apply.
        var byProcess = ConnectionFilter()
        byProcess.pids = filter.pids
        byProcess.units = filter.units
        dead = byProcess.namesProcesses
            ? audit.dead.filter { byProcess.selectsListener(process: audit.processes[$0.holder.pid], pid: $0.holder.pid, port: 0) }
            : audit.dead
    }

    /// Prints the text report: the summary by process, or with `all` every connection; then
    /// the dead sockets, the blind spots and what to do.
    func print(all: Bool) {
        if selected.isEmpty {
            Output.print(lines: ["no TCP connections selected"])
        } else if all {
            Output.print(table: everyConnection())
            Output.print(lines: ["(KEEPALIVE with '?' is inferred from the kernel's timer; --exact reads it from the socket)"])
        } else {
            Output.print(table: summaryRows())
        }
        Output.print(lines: trailer())
    }

    /// The `--all` table. Cells other than the addresses repeat (a few idle times, verdicts,
    /// processes), so each distinct one is made once.
    func everyConnection() -> [[String]] {
        var idle: [Int: String] = [:], verdicts: [Reaping.Verdict: String] = [:], processes: [[Int32]: String] = [:]
        return [["STATE", "LOCAL", "REMOTE", "PROCESS", "UNIT", "KEEPALIVE", "IDLE", "REAPED"]] + selected.map { connection in
            let seconds = connection.idleSeconds ?? -1
            let idleText = idle[seconds] ?? { idle[seconds] = seconds < 0 ? "-" : TimeSpan.format(seconds: seconds); return idle[seconds]! }()
            let verdict = verdicts[connection.verdict] ?? { verdicts[connection.verdict] = Self.verdict(connection.verdict); return verdicts[connection.verdict]! }()
            let process = processes[connection.pids] ?? { processes[connection.pids] = Self.process(connection); return processes[connection.pids]! }()
            return [connection.socket.record.state.name, connection.socket.local, connection.socket.remote, process, connection.unit ?? "-",
                    connection.keepaliveSource == .inferred ? connection.keepalive + "?" : connection.keepalive, idleText, verdict]
        }
    }

    /// The summary by process.
    func summaryRows() -> [[String]] {
        [["PID", "COMMAND", "UNIT", "CONNECTIONS", "STATES", "NO-KEEPALIVE", "NEVER-REAPED", "OLDEST-IDLE"]] + summary.map { row in
            [row.pid.map(String.init) ?? "-", row.command ?? "-", row.unit ?? "-", String(row.connections),
             Self.states(row.byState), String(row.withoutKeepalive), String(row.neverReaped),
             row.oldestIdleSeconds.map { TimeSpan.format(seconds: $0) } ?? "-"]
        }
    }

    /// What follows the table: dead sockets still held, what could not be seen, what to do.
    func trailer() -> [String] {
        var lines: [String] = []
        if !dead.isEmpty {
            lines.append("")
            lines.append("held after the kernel closed them (a descriptor leak in the application):")
            let byPID = Dictionary(grouping: dead, by: \.holder.pid)
            for pid in byPID.keys.sorted() {
                let descriptors = byPID[pid]!.map { String($0.holder.fd) }
                let name = audit.processes[pid].map { " (\($0.command))" } ?? ""
                lines.append("  PID \(pid)\(name): \(descriptors.count) socket\(descriptors.count == 1 ? "" : "s"), fd \(descriptors.prefix(10).joined(separator: " "))\(descriptors.count > 10 ? " …" : "")")
            }
        }
        for blind in audit.blindSpots { lines.append("not seen: \(blind)") }
        lines.append("")
        lines.append(ConnectionAudit.advice(summary))
        return lines
    }

    /// The JSON report (schema in README, "Connections that never die").
    var json: JSONValue {
        let deadSockets: [JSONValue] = dead.map(json)
        let members: [String: JSONValue?] = [
            "connections": .array(selected.map(Self.json)),
            "processes": .array(summary.map(Self.json)),
            "dead_sockets": .array(deadSockets),
            "not_seen": .array(audit.blindSpots.map(JSONValue.string)),
            "advice": .string(ConnectionAudit.advice(summary)),
        ]
        return .object(members)
    }

    func json(_ dead: DeadSocket) -> JSONValue {
        let process = audit.processes[dead.holder.pid]
        let members: [String: JSONValue?] = [
            "pid": .int(Int(dead.holder.pid)), "fd": .int(Int(dead.holder.fd)), "inode": .int(Int(dead.inode)),
            "process": process.map { .string($0.command) } ?? .null, "unit": process?.unit.jsonOrNull ?? .null,
        ]
        return .object(members)
    }

    static func json(_ connection: AuditedConnection) -> JSONValue {
        let members: [String: JSONValue?] = [
            "state": .string(connection.socket.record.state.name),
            "local": .string(connection.socket.local),
            "remote": .string(connection.socket.remote),
            "pids": .array(connection.pids.map { .int(Int($0)) }),
            "process": connection.command.jsonOrNull,
            "unit": connection.unit.jsonOrNull,
            "keepalive": .string(connection.keepalive),
            "keepalive_source": .string(connection.keepaliveSource.rawValue),
            "idle_seconds": connection.idleSeconds.jsonOrNull,
            "reaped_by": .string(connection.verdict.reapedBy.rawValue),
            "reaped_within_seconds": connection.verdict.withinSeconds.jsonOrNull,
            "reason": .string(connection.verdict.reason),
        ]
        return .object(members)
    }

    static func json(_ row: ProcessSummary) -> JSONValue {
        let states: [String: JSONValue?] = Dictionary(uniqueKeysWithValues: row.byState.map { ($0.key.name, JSONValue.int($0.value)) })
        let members: [String: JSONValue?] = [
            "pid": row.pid.map { .int(Int($0)) } ?? .null,
            "process": row.command.jsonOrNull,
            "unit": row.unit.jsonOrNull,
            "connections": .int(row.connections),
            "states": .object(states),
            "without_keepalive": .int(row.withoutKeepalive),
            "never_reaped": .int(row.neverReaped),
            "oldest_idle_seconds": row.oldestIdleSeconds.jsonOrNull,
        ]
        return .object(members)
    }

    /// `server/31091`, `server/31091+1` when more processes hold it, `-` when none is known.
    static func process(_ connection: AuditedConnection) -> String {
        guard let first = connection.pids.first else { return "-" }
        let more = connection.pids.count > 1 ? "+\(connection.pids.count - 1)" : ""
        return "\(connection.command ?? "?")/\(first)\(more)"
    }

    /// `702 ESTABLISHED, 3 CLOSE-WAIT`.
    static func states(_ counts: [SocketRecord.State: Int]) -> String {
        counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key.rawValue < $1.key.rawValue) }
            .map { "\($0.value) \($0.key.name)" }.joined(separator: ", ")
    }

    /// `keepalive within 9s`, `never: the peer closed; the application has not`.
    static func verdict(_ verdict: Reaping.Verdict) -> String {
        guard let within = verdict.withinSeconds else { return "never: \(verdict.reason)" }
        return "\(verdict.reapedBy.rawValue) within \(TimeSpan.format(seconds: within))"
    }
}
