import Foundation

/// `keepalived-tune run` as a real child process in a private network namespace, with a
/// notify socket the test drains and a journal it inspects.
///
/// The daemon runs under `unshare -m` with a tmpfs over /run, so its journal entries never
/// reach the host's journald: they go either to ``journal``, a receiver socket bound at
/// /run/systemd/journal/socket, or to a real systemd-journald started in the same mount
/// namespace with volatile storage in a temp dir. Its keepalive sysctls are the
/// namespace's real /proc/sys files.
public final class DaemonUnderTest: @unchecked Sendable {
    /// Why these tests cannot run here, or `nil` if they can.
    public static var unavailableReason: String? { PrivateNetworkNamespace.unavailableReason }

    /// Why a real journald cannot be used here, or `nil` if it can.
    public static let journaldUnavailableReason: String? = {
        if let reason = unavailableReason { return reason }
        for path in [journaldBinary, "/etc/systemd/journald.conf", "/usr/bin/journalctl"]
        where !FileManager.default.fileExists(atPath: path) {
            return "\(path) is missing (install the systemd package)"
        }
        return nil
    }()

    static let journaldBinary = "/lib/systemd/systemd-journald"

    /// Where the daemon's journal entries go: a receiver socket, a real journald, or its
    /// stderr (`--log-target console`), read line by line into ``console``.
    public enum JournalSink: Sendable { case receiver, journald, console, consoleClosed }

    public let directory: TemporaryDirectory
    public let namespace: PrivateNetworkNamespace
    /// NOTIFY_SOCKET: sd_notify messages as `[KEY: VALUE]`.
    public let notify: DatagramReceiver
    /// The journal socket: one `[FIELD: VALUE]` per entry.
    public let journal: DatagramReceiver
    /// The daemon's stderr lines as `["LINE": text]` (``JournalSink/console`` only).
    public let console = MessageLog()
    /// The config file, in ``configDirectory`` (the temp dir itself unless given).
    public var configPath: String { directory.url(configRelativePath) }
    /// The directory holding the config.
    public var configDirectory: String { (configPath as NSString).deletingLastPathComponent }
    private let configRelativePath: String
    public var profileDirectory: String { directory.url("profiles") }
    public var sysctlConfRoot: String { directory.url("sysctl-root") }
    /// The journal files a real journald writes (``JournalSink/journald``).
    public var journalDirectory: String { directory.url("log/journal") }
    private let sink: JournalSink
    /// The daemon runs in a PID namespace of its own too (`unshare -mp --fork --mount-proc`),
    /// so that "every namespace on the host" means only what the test makes there.
    private let pidNamespace: Bool
    private var process: SpawnedProcess?
    /// The never-read notify socket, when there is one.
    private var unreadNotify: UnreadSocket?

    /// Prepares a config (if given) and profile files; the daemon is not started yet.
    public init(config: String?, profiles: [String: String] = [:], sink: JournalSink = .receiver,
                configDirectory: String? = nil, notifyReader: Bool = true, pidNamespace: Bool = false) throws {
        self.sink = sink
        self.pidNamespace = pidNamespace
        configRelativePath = configDirectory.map { "\($0)/keepalived-tune.conf" } ?? "keepalived-tune.conf"
        directory = try TemporaryDirectory("kt-daemon")
        try directory.makeDirectory("profiles")
        try directory.makeDirectory("journal")
        try directory.makeDirectory("sysctl-root/etc/sysctl.d")
        try directory.makeDirectory("log")
        try directory.write("journald.conf", """
            [Journal]
            Storage=volatile
            ReadKMsg=no
            ForwardToSyslog=no
            ForwardToKMsg=no
            ForwardToConsole=no
            ForwardToWall=no
            """)
        if let config { try directory.write(configRelativePath, config) }
        for (name, text) in profiles { try directory.write("profiles/\(name).conf", text) }
        namespace = try PrivateNetworkNamespace()
        if notifyReader {
            notify = try DatagramReceiver(path: directory.url("notify.sock"))
        } else {
            // Bound in the daemon's namespace (net.unix.max_dgram_qlen is 10 there) and never
            // read: a supervisor that does not drain its socket.
            let path = directory.url("notify.sock")
            unreadNotify = try namespace.run { try UnreadSocket(path: path) }
            notify = try DatagramReceiver(path: directory.url("notify-unused.sock"))
        }
        journal = try DatagramReceiver(path: directory.url("journal/socket"))
    }

    deinit {
        if let process, process.isRunning {
            process.signal(SIGKILL)
            _ = process.wait(timeout: 10)
        }
        if let text = try? directory.read("journald.pid"), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            kill(pid, SIGKILL)
        }
    }

    /// Starts the daemon with `--log-target journal` and any extra arguments.
    /// `KT_NOFILE` in `environment` sets its descriptor limit (`N`, or `SOFT:HARD`); `KT_WRAPPER`
    /// a command the daemon is exec'ed through (such as `setpriv --bounding-set ...`).
    public func start(_ arguments: [String] = [], environment: [String: String] = [:]) throws {
        let unshare = pidNamespace ? ["unshare", "-mp", "--fork", "--mount-proc"] : ["unshare", "-m"]
        let arguments = unshare + ["bash", "-c", DaemonUnderTest.launchScript(sink), "bash", "--config", configPath, "--profile-dir", profileDirectory,
            "--sysctl-conf-root", sysctlConfRoot] + arguments
        var env = ChildProcess.environment().filter { !$0.key.hasPrefix("NOTIFY_") && $0.key != "JOURNAL_STREAM" && !$0.key.hasPrefix("WATCHDOG_") }
        env["NOTIFY_SOCKET"] = unreadNotify?.path ?? notify.path
        env["KT_DIR"] = directory.path
        env["KT_BINARY"] = ChildProcess.keepalivedTune
        env.merge(environment) { $1 }
        // .consoleClosed: nobody reads stderr, so the first write gets EPIPE.
        let stderr: SpawnedProcess.Stream = sink == .console ? .pipe : sink == .consoleClosed ? .closedPipe : .null
        let process = try namespace.run { try SpawnedProcess(arguments, environment: env, stderr: stderr) }
        if sink == .console, let error = process.error {
            let console = self.console
            readLines(from: error) { console.append(["LINE": String(decoding: $0, as: UTF8.self)]) }
        }
        self.process = process
    }

    /// Kills the daemon with SIGKILL, as a crash would, and waits until it is gone; returns
    /// whether it went. ``start(_:environment:)`` may then start it again in the same
    /// namespace, with the same files.
    @discardableResult
    public func crash() -> Bool {
        signal(SIGKILL)
        return waitForExit() != nil
    }

    /// The daemon's process id (in the test's PID namespace): the unshare(1) process's, or
    /// with a PID namespace of its own, that of unshare's child.
    public var pid: Int32 {
        guard let process else { return -1 }
        let parent = process.pid
        guard pidNamespace else { return parent }
        let children = (try? String(contentsOfFile: "/proc/\(parent)/task/\(parent)/children", encoding: .utf8)) ?? ""
        return children.split(separator: " ").first.flatMap { Int32($0) } ?? -1
    }

    /// Runs a command in the daemon's mount namespace (where its private /run, and so
    /// `/run/netns`, is), and in its PID namespace if it has one (its /proc shows only that).
    public func runInMountNamespace(_ arguments: [String]) throws -> ChildProcess.Result {
        try ChildProcess.run(nsenterPrefix + arguments)
    }

    /// `nsenter` into the daemon's mount (and PID) namespace, ending in `--`.
    public var nsenterPrefix: [String] {
        ["nsenter", "-t", String(pid), "-m"] + (pidNamespace ? ["-p"] : []) + ["--"]
    }

    /// `time/intvl/probes` inside the named namespace of the daemon's `/run/netns`.
    public func values(inNetns name: String) throws -> String {
        let result = try runInMountNamespace(["ip", "netns", "exec", name, "cat", "/proc/sys/net/ipv4/tcp_keepalive_time",
                                              "/proc/sys/net/ipv4/tcp_keepalive_intvl", "/proc/sys/net/ipv4/tcp_keepalive_probes"])
        return result.stdout.split(separator: "\n").joined(separator: "/")
    }

    /// Sends a signal to the daemon.
    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits up to `timeout` seconds for the daemon to exit; its exit status, or `nil`.
    public func waitForExit(timeout: Double = MessageLog.defaultTimeout) -> Int32? {
        process?.wait(timeout: timeout)
    }

    /// The namespace's `time/intvl/probes`, read from the real /proc/sys files.
    public func values() throws -> String {
        try namespace.run {
            try ["time", "intvl", "probes"].map {
                try String(contentsOfFile: "/proc/sys/net/ipv4/tcp_keepalive_\($0)", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }.joined(separator: "/")
        }
    }

    /// Writes a value behind the daemon's back, as `echo VALUE > /proc/sys/...` would.
    public func write(_ name: String, _ value: Int) throws {
        try namespace.run {
            try TemporaryDirectory.replaceContents(of: "/proc/sys/net/ipv4/\(name)", with: Array("\(value)\n".utf8))
        }
    }

    /// Runs a command inside the daemon's network namespace (e.g. `sysctl -w`).
    public func runInNamespace(_ arguments: [String]) throws -> ChildProcess.Result {
        try namespace.run { try ChildProcess.run(arguments) }
    }

    /// Waits for a notify message satisfying `predicate`, starting at index `from`.
    public func waitForNotify(from: Int = 0, timeout: Double = MessageLog.defaultTimeout,
                              _ predicate: ([String: String]) -> Bool) -> (message: [String: String], index: Int)? {
        notify.wait(from: from, timeout: timeout, predicate)
    }

    /// Waits for a journal entry with `EVENT=event` (and matching `predicate`).
    public func waitForEvent(_ event: String, from: Int = 0, timeout: Double = MessageLog.defaultTimeout,
                             where predicate: ([String: String]) -> Bool = { _ in true }) -> (entry: [String: String], index: Int)? {
        journal.wait(from: from, timeout: timeout) { $0["EVENT"] == event && predicate($0) }
            .map { ($0.message, $0.index) }
    }

    /// Every journal entry so far, for failure messages.
    public var journalText: String {
        journal.all.map { "\($0["PRIORITY"] ?? "?") \($0["EVENT"] ?? "-") \($0["MESSAGE"] ?? "")" }.joined(separator: "\n")
    }

    /// Replaces the config in place (open, truncate, write, close), as an editor might.
    public func editConfig(_ text: String) throws {
        try directory.write(configRelativePath, text)
    }

    /// Whether the daemon process is still alive.
    public var isRunning: Bool { process?.isRunning ?? false }
}
