import KeepaliveModel
import KeepaliveOS

/// `connections --enable-keepalive [--dry-run]`: the plan, carried out (or shown), each
/// change printed, then the total. A socket that went away between the scan and the change
/// (closed, its process exited) is said and counted apart: nothing was left to give
/// keepalive to, so it is no failure and does not change the exit status.
struct ConnectionsRetrofit {
    let audit: ConnectionAudit
    let input: AuditInput
    let filter: ConnectionFilter
    let syscalls: Syscalls
    let dryRun: Bool
    let json: Bool

    /// What became of the plan, in the words the report uses.
    struct Tally {
        var enabled = 0, listeners = 0, already = 0
        var gone: [String] = [], failed: [String] = []
        var lines: [String] = []
        var changes: [JSONValue] = []
    }

    /// Plans, changes (unless `dryRun`), reports; exit 3 when a change failed.
    func run() throws {
        let plan = RetrofitPlan(audit: audit, listeners: input.sockets.filter { $0.record.state == .listen },
                                holders: input.holders, filter: filter)
        let results: [(target: RetrofitPlan.Target, holder: SocketHolder, outcome: KeepaliveRetrofit.Outcome?)] = dryRun
            ? plan.targets.map { ($0, $0.holders[0], nil) }
            : KeepaliveRetrofit(syscalls: syscalls).apply(plan, processes: input.processes, beforeAction: TestPause.beforeRetrofit.wait).map { ($0.target, $0.holder, $0.outcome) }
        var tally = Tally()
        for (target, holder, outcome) in results {
            let who = "PID \(holder.pid) (\(target.command ?? "?")) fd \(holder.fd)"
            let what = target.isListener ? "listening socket \(target.socket.local)"
                : "\(target.socket.record.state.name) \(target.socket.local) \(target.socket.remote)"
            switch outcome {
            case nil, .enabled?:
                tally.lines.append("\(outcome == nil ? "would enable" : "enabled") keepalive: \(who): \(what)")
                if target.isListener { tally.listeners += 1 } else { tally.enabled += 1 }
                tally.changes.append(Self.json(target, through: holder))
            case .alreadyOn?:
                tally.already += 1
            case .gone(let why)?:
                tally.gone.append("\(who): \(what): \(why)")
                tally.lines.append("gone before the change: \(who): \(what): \(why); nothing left to give keepalive to")
            case .failed(let error)?:
                tally.failed.append("\(who): \(what): \(error)")
            }
        }
        report(tally, planned: !plan.targets.isEmpty)
        for failure in tally.failed { Output.error("keepalived-tune: could not enable keepalive: \(failure)") }
        if !tally.failed.isEmpty {
            if tally.failed.contains(where: { $0.contains("EPERM") }) {
                Output.error("keepalived-tune: pidfd_getfd needs ptrace rights over the process (root, or CAP_SYS_PTRACE)")
            }
            throw ExitStatus.systemFailure
        }
    }

    /// Prints the tally: each change and the total (text), or one document (JSON).
    func report(_ tally: Tally, planned: Bool) {
        if json {
            let members: [String: JSONValue?] = [
                "dry_run": .bool(dryRun), "changes": .array(tally.changes),
                "connections": .int(tally.enabled), "listeners": .int(tally.listeners), "already_on": .int(tally.already),
                "gone": .array(tally.gone.map(JSONValue.string)), "failed": .array(tally.failed.map(JSONValue.string)),
            ]
            Output.json(.object(members))
            return
        }
        let verb = dryRun ? "would give" : "gave"
        var total = "\(verb) keepalive to \(tally.enabled) connection\(tally.enabled == 1 ? "" : "s") and \(tally.listeners) "
            + "listening socket\(tally.listeners == 1 ? "" : "s"); \(tally.already) already had it; \(tally.failed.count) failed"
        if !tally.gone.isEmpty {
            total += "; \(tally.gone.count) gone before the change (closed, or the process exited): nothing left to give keepalive to"
        }
        tally.lines.forEach { print($0) }
        if tally.listeners > 0 {
            print("connections the listening sockets accept from now on inherit keepalive: every future connection of that server is covered, without a restart")
        }
        print(planned ? total : "nothing selected lacks keepalive (\(total))")
    }

    /// One change for `--json`: the target, and the holder it was reached through.
    static func json(_ target: RetrofitPlan.Target, through holder: SocketHolder) -> JSONValue {
        let members: [String: JSONValue?] = [
            "pid": .int(Int(holder.pid)), "fd": .int(Int(holder.fd)),
            "process": target.command.jsonOrNull, "unit": target.unit.jsonOrNull,
            "state": .string(target.socket.record.state.name), "local": .string(target.socket.local),
            "remote": target.isListener ? .null : .string(target.socket.remote),
        ]
        return .object(members)
    }
}
