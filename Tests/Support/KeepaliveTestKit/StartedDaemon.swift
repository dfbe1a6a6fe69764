import Foundation

/// "Construct, start, wait for READY=1": the one way the tests bring a daemon up.
extension DaemonUnderTest {
    /// Prepares a daemon (as ``init(config:profiles:sink:configDirectory:notifyReader:pidNamespace:)``
    /// does), starts it with `arguments` and `environment`, and waits for its first READY=1.
    ///
    /// - Throws: ``DaemonDidNotStart``, with the journal so far, when READY=1 does not come
    ///   within `timeout` seconds.
    public static func started(config: String?, profiles: [String: String] = [:], sink: JournalSink = .receiver,
                               configDirectory: String? = nil, pidNamespace: Bool = false,
                               arguments: [String] = [], environment: [String: String] = [:],
                               timeout: Double = MessageLog.defaultTimeout) throws -> DaemonUnderTest {
        let daemon = try DaemonUnderTest(config: config, profiles: profiles, sink: sink,
                                         configDirectory: configDirectory, pidNamespace: pidNamespace)
        try daemon.startAwaitingReady(arguments, environment: environment, timeout: timeout)
        return daemon
    }

    /// Starts this daemon (``start(_:environment:)``: the first time, after files the test
    /// prepares, or again after ``crash()``) and waits for the READY=1 that this start sends,
    /// the first one after every notify message received before it. Returns that message.
    ///
    /// - Throws: ``DaemonDidNotStart``, with the journal so far, when READY=1 does not come
    ///   within `timeout` seconds.
    @discardableResult
    public func startAwaitingReady(_ arguments: [String] = [], environment: [String: String] = [:],
                                   timeout: Double = MessageLog.defaultTimeout) throws -> [String: String] {
        let before = notify.all.count
        try start(arguments, environment: environment)
        guard let ready = waitForNotify(from: before, timeout: timeout, { $0["READY"] == "1" }) else {
            throw DaemonDidNotStart(exitStatus: waitForExit(timeout: 0), journal: journalText,
                                    console: console.all.compactMap { $0["LINE"] }.joined(separator: "\n"))
        }
        return ready.message
    }
}

/// The daemon never sent READY=1: what it left behind, for the test's failure message.
public struct DaemonDidNotStart: Error, CustomStringConvertible {
    /// Its exit status, or `nil` if it was still running.
    public let exitStatus: Int32?
    /// Its journal entries so far (``DaemonUnderTest/journalText``).
    public let journal: String
    /// Its stderr lines so far (``DaemonUnderTest/JournalSink/console`` only).
    public let console: String

    /// One sentence, then the journal (and the console when there is one).
    public var description: String {
        let state = exitStatus.map { "it exited with status \($0)" } ?? "it is still running"
        return "no READY=1 (\(state)); journal:\n\(journal)" + (console.isEmpty ? "" : "\nconsole:\n\(console)")
    }
}
