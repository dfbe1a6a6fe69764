import Logging

/// A swift-log backend that writes each log call as one structured journal entry.
///
/// The entry carries `MESSAGE`, `PRIORITY`, `SYSLOG_IDENTIFIER`, `CODE_FILE`,
/// `CODE_LINE`, `CODE_FUNC` and every metadata item as a field of its own (names
/// normalised to `[A-Z0-9_]`), so `journalctl FIELD=value` finds it.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let identifier: String
    let journal: Journal

    /// Creates a handler that tags entries with `SYSLOG_IDENTIFIER=identifier`.
    public init(identifier: String, journal: Journal = Journal()) {
        self.identifier = identifier
        self.journal = journal
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(name: String, value: String)] = [
            ("MESSAGE", event.message.description),
            ("PRIORITY", String(JournalLogHandler.priority(event.level))),
            ("SYSLOG_IDENTIFIER", identifier),
            ("CODE_FILE", event.file),
            ("CODE_LINE", String(event.line)),
            ("CODE_FUNC", event.function),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() {
            fields.append((key, merged[key]!.description))
        }
        journal.send(fields)
    }

    /// The syslog priority for a level: error 3, warning 4, notice 5, info 6, debug 7.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}

/// A swift-log backend for terminals and supervisors without a journal:
/// `keepalived-tune: warning: message [EVENT=drift SYSCTL=… EXPECTED=1800 ACTUAL=99]`, one
/// line each.
///
/// The fields that the journal would carry as its own follow the message, as swift-log's
/// `StreamLogHandler` prints metadata: `EVENT` first, then the rest by name (`MESSAGE_ID`,
/// which only the catalog needs, is left out).
public struct ConsoleLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let write: @Sendable (String) -> Void

    /// Creates a handler that passes each formatted line to `write`.
    public init(write: @escaping @Sendable (String) -> Void) { self.write = write }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        write(ConsoleLogHandler.format(level: event.level, message: event.message.description,
                                       metadata: metadata.merging(event.metadata ?? [:]) { _, new in new }))
    }

    /// `keepalived-tune: warning: message [EVENT=drift KEY=value …]`.
    static func format(level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        let name = level == .critical ? "critical" : level.rawValue
        let keys = metadata.keys.filter { $0 != "MESSAGE_ID" }.sorted { ($0 == "EVENT" ? "" : $0) < ($1 == "EVENT" ? "" : $1) }
        let fields = keys.map { "\($0)=\(metadata[$0]!)" }.joined(separator: " ")
        return "keepalived-tune: \(name): \(message)" + (fields.isEmpty ? "" : " [\(fields)]")
    }
}
