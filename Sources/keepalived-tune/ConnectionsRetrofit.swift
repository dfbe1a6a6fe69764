import KeepaliveModel
import KeepaliveOS

/// `connections --enable-keepalive [--dry-run]`: the plan, carried out (or shown), each
/// change printed, then the total.
struct ConnectionsRetrofit {
    let audit: ConnectionAudit
    let input: AuditInput
    let filter: ConnectionFilter
    let dryRun: Bool
    let json: Bool

    func run() throws {
        let plan = RetrofitPlan(audit: audit, listeners: input.sockets.filter { $0.record.state == .listen },
                                holders: input.holders, filter: filter)
        if !dryRun { TestPause.beforeRetrofit.wait() }
        let results: [(target: RetrofitPlan.Target, outcome: KeepaliveRetrofit.Outcome?)] = dryRun
            ? plan.targets.map { ($0, nil) }
            : KeepaliveRetrofit().apply(plan).map { ($0.target, $0.outcome) }
        var enabled = 0, listeners = 0, already = 0, failed: [String] = []
        var lines: [String] = []
        for (target, outcome) in results {
            let who = "PID \(target.holders[0].pid) (\(target.command ?? "?")) fd \(target.holders[0].fd)"
            let what = target.isListener ? "listening socket \(target.socket.local)"
                : "\(target.socket.record.state.name) \(target.socket.local) \(target.socket.remote)"
            switch outcome {
            case nil:
                lines.append("would enable keepalive: \(who): \(what)")
                if target.isListener { listeners += 1 } else { enabled += 1 }
            case .enabled?:
                lines.append("enabled keepalive: \(who): \(what)")
                if target.isListener { listeners += 1 } else { enabled += 1 }
            case .alreadyOn?:
                already += 1
            case .failed(let error)?:
                failed.append("\(who): \(what): \(error)")
            }
        }
        let verb = dryRun ? "would give" : "gave"
        let total = "\(verb) keepalive to \(enabled) connection\(enabled == 1 ? "" : "s") and \(listeners) listening socket\(listeners == 1 ? "" : "s")"
            + "; \(already) already had it; \(failed.count) failed"
        let inherit = listeners > 0
            ? "connections the listening sockets accept from now on inherit keepalive: every future connection of that server is covered, without a restart"
            : nil
        if json {
            let changes: [JSONValue] = results.compactMap { target, outcome in
                switch outcome {
                case .alreadyOn?, .failed?: return nil
                case nil, .enabled?: return Self.json(target)
                }
            }
            let members: [String: JSONValue?] = [
                "dry_run": .bool(dryRun), "changes": .array(changes),
                "connections": .int(enabled), "listeners": .int(listeners), "already_on": .int(already),
                "failed": .array(failed.map(JSONValue.string)),
            ]
            Output.json(.object(members))
        } else {
            lines.forEach { print($0) }
            if let inherit { print(inherit) }
            print(plan.targets.isEmpty ? "nothing selected lacks keepalive (\(total))" : total)
        }
        for failure in failed { Output.error("keepalived-tune: could not enable keepalive: \(failure)") }
        if !failed.isEmpty {
            if failed.contains(where: { $0.contains("EPERM") }) {
                Output.error("keepalived-tune: pidfd_getfd needs ptrace rights over the process (root, or CAP_SYS_PTRACE)")
            }
            throw ExitStatus.systemFailure
        }
    }

    static func json(_ target: RetrofitPlan.Target) -> JSONValue {
        let members: [String: JSONValue?] = [
            "pid": .int(Int(target.holders[0].pid)), "fd": .int(Int(target.holders[0].fd)),
            "process": target.command.jsonOrNull, "unit": target.unit.jsonOrNull,
            "state": .string(target.socket.record.state.name), "local": .string(target.socket.local),
            "remote": target.isListener ? .null : .string(target.socket.remote),
        ]
        return .object(members)
    }
}
