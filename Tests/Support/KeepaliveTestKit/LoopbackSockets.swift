import Foundation

/// TCP listeners and connections on loopback, in a private network namespace, made on
/// request by one Python process (Tests/Fixtures/bpf/sockets.py) that the test moves
/// between its cgroups: a socket belongs to the cgroup its creator was in when it was made.
public final class LoopbackSockets: @unchecked Sendable {
    /// The five options read back from each end of a connection, by their C names.
    public typealias Options = [String: Int]

    /// One connection: the accepted (server) end and the client end, as getsockopt reads them.
    public struct Connection: Sendable {
        public let accepted: Options
        public let client: Options
        /// The client's and the server's local ports.
        public let ports: [Int]
    }

    private let child: LineChild
    /// The fixture's PID (for `nsenter -t PID -n` and for cgroup.procs).
    public var pid: Int32 { child.pid }

    /// Starts the fixture in a new network namespace with lo up.
    public init() throws {
        child = try LineChild(UnshareNetwork.prefix + ["sh", "-c", "ip link set lo up && exec python3 \"$0\"",
                                                       FileList.packageRoot + "/Tests/Fixtures/bpf/sockets.py"],
                              label: "sockets.py")
    }

    /// Ends the fixture: see ``stop()``.
    deinit { stop() }

    /// Closes every socket and waits for the fixture to exit.
    public func stop() { child.finish() }

    /// A listener named `name`, with `options` set on it before it listens; its port.
    @discardableResult
    public func listen(_ name: String, options: Options = [:]) throws -> Int {
        let answer = try ask("listen \(name) \(Self.json(options))")
        guard let port = answer["port"] as? Int else { throw LineChild.Failed(description: "sockets.py: \(answer)") }
        return port
    }

    /// A new client, with `options` set before it connects, connected to listener `name`.
    public func connect(_ name: String, options: Options = [:]) throws -> Connection {
        let answer = try ask("connect \(name) \(Self.json(options))")
        guard let accepted = answer["accepted"] as? Options, let client = answer["client"] as? Options,
              let ports = answer["ports"] as? [Int] else {
            throw LineChild.Failed(description: "sockets.py: \(answer)")
        }
        return Connection(accepted: accepted, client: client, ports: ports)
    }

    /// `ss -tnoi` in the fixture's network namespace.
    public func socketStatistics() throws -> String {
        try ChildProcess.run(["nsenter", "-t", String(pid), "-n", "ss", "-tnoi"]).stdout
    }

    /// Sends a command and parses the JSON answer.
    private func ask(_ command: String) throws -> [String: Any] {
        let line = try child.ask(command)
        guard let answer = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw LineChild.Failed(description: "sockets.py answered \(line)")
        }
        if let error = answer["error"] { throw LineChild.Failed(description: "sockets.py: \(error)") }
        return answer
    }

    /// Options as the fixture's JSON.
    private static func json(_ options: Options) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: options, options: .sortedKeys)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
