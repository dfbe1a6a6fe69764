import Foundation

/// Live TCP peers in two private network namespaces (Tests/Fixtures/connections/peers.py):
/// a server in namespace A that never sets SO_KEEPALIVE, its clients in namespace B, a veth
/// between them. Everything lives in namespaces the fixture creates, and is torn down by
/// ``stop()`` (or when this process dies and the fixture's stdin closes).
public final class LivePeers: @unchecked Sendable {
    /// Why the peers cannot run here, or `nil` if they can.
    public static let unavailableReason: String? = {
        if geteuid() != 0 { return "veth pairs and nsenter need root" }
        for tool in ["ip", "nsenter", "unshare", "python3", "ss"] where ChildProcessLookup.path(of: tool) == nil {
            return "\(tool) is not installed"
        }
        return nil
    }()

    private let process: SpawnedProcess
    private let condition = NSCondition()
    private var lines: [String] = []
    private var closed = false
    /// The namespace-holding PID of A (for `--netns`), of B, and the server's PID.
    public private(set) var namespaceA: Int32 = 0
    public private(set) var namespaceB: Int32 = 0
    public private(set) var server: Int32 = 0
    public let port = 31091

    /// Starts the fixture with its arguments (`--connections N`, `--classes`, `--profile T/I/P`)
    /// and waits until it is ready.
    public init(_ arguments: [String], timeout: Double = MessageLog.defaultTimeout) throws {
        process = try SpawnedProcess(["python3", FileList.packageRoot + "/Tests/Fixtures/connections/peers.py"] + arguments,
                                     stdin: .pipe, stdout: .pipe)
        readLines(from: process.output!) { [self] data in
            condition.lock()
            lines.append(String(decoding: data, as: UTF8.self))
            condition.broadcast()
            condition.unlock()
        }
        let ready = try line(startingWith: "ready ", timeout: timeout)
        let json = try JSONSerialization.jsonObject(with: Data(ready.dropFirst(6).utf8)) as? [String: Int] ?? [:]
        namespaceA = Int32(json["a"] ?? 0)
        namespaceB = Int32(json["b"] ?? 0)
        server = Int32(json["server"] ?? 0)
    }

    deinit { stop() }

    /// Sends a fixture command (`cut`, `send`) and waits for its `ok`; returns that line.
    @discardableResult
    public func command(_ word: String, timeout: Double = MessageLog.defaultTimeout) throws -> String {
        process.input?.write(Data((word + "\n").utf8))
        return try line(startingWith: "ok \(word)", timeout: timeout)
    }

    /// Tears everything down and waits for the fixture to exit.
    public func stop() {
        condition.lock()
        let wasClosed = closed
        closed = true
        condition.unlock()
        guard !wasClosed else { return }
        try? process.input?.close()
        process.wait()
    }

    /// Runs `command` inside namespace A (`nsenter -t A -n`).
    public func insideA(_ command: [String]) throws -> ChildProcess.Result {
        try ChildProcess.run(["nsenter", "-t", String(namespaceA), "-n"] + command)
    }

    private struct FixtureFailed: Error, CustomStringConvertible {
        let description: String
    }

    /// Waits for the next line that starts with `prefix`.
    private func line(startingWith prefix: String, timeout: Double) throws -> String {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let index = lines.firstIndex(where: { $0.hasPrefix(prefix) }) {
                return lines.remove(at: index)
            }
            if !process.isRunning { throw FixtureFailed(description: "peers.py exited (\(process.wait(timeout: 0) ?? -1)) before '\(prefix)'; output: \(lines)") }
            if !condition.wait(until: min(deadline, Date(timeIntervalSinceNow: 0.5))) && Date() >= deadline {
                throw FixtureFailed(description: "peers.py did not say '\(prefix)' within \(Int(timeout)) s; output: \(lines)")
            }
        }
    }
}

/// Finds programs in PATH.
public enum ChildProcessLookup {
    public static func path(of tool: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
