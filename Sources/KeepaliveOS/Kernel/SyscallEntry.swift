/// One call of the seam, declared once in ``SyscallTable``: the name a trace records it
/// under, what a trace shows it was made on, and the body that makes it (the C library's
/// call in ``SyscallTable/init()``, or a test's fault).
///
/// A call made through ``Syscalls`` goes through ``callAsFunction(_:)``, which records
/// `name` when the seam records: the recorder needs no list of its own, so a call added to
/// the table cannot be left out of traces or recorded under another call's name.
public struct SyscallEntry<each Argument, Output>: Sendable {
    /// The name of the system call behind the entry (`pread`, `inotify_add_watch`, ...).
    public let name: String
    /// The descriptor, path or size the call is made on, as a trace shows it.
    let subject: @Sendable (repeat each Argument) -> String
    /// What the call does; replace it to inject a fault.
    public var body: @Sendable (repeat each Argument) -> Output
    /// Where the call is recorded; set by ``Syscalls`` as it hands the entry out.
    var trace: SyscallTrace?

    /// An entry named `name`, whose trace shows `subject` of its arguments, made by `body`.
    public init(_ name: String, subject: @escaping @Sendable (repeat each Argument) -> String,
                _ body: @escaping @Sendable (repeat each Argument) -> Output) {
        self.name = name
        self.subject = subject
        self.body = body
    }

    /// Makes the call, recording it first when the seam it came from records.
    public func callAsFunction(_ argument: repeat each Argument) -> Output {
        trace?.record(name, subject(repeat each argument))
        return body(repeat each argument)
    }
}

/// What every entry of the table says about itself, whatever its arguments: for the tests
/// that walk the table (every entry has a name of its own).
public protocol NamedSyscall {
    /// The name a trace records the call under.
    var name: String { get }
}

extension SyscallEntry: NamedSyscall {}

/// The one seam through which the OS layer and the daemon's loop make system calls: file
/// access, sockets (netlink among them), the event sources the loop waits on (poll,
/// inotify, signalfd) and the memory advice that hands code pages back. It makes calls and
/// nothing else: what the calls return is parsed by their callers.
///
/// ``live`` calls the C library. Tests replace single calls to inject faults
/// (`calls.pread.body = { ... }`: a chosen errno, a short write), or record the whole seam
/// with ``recording(into:)`` to see exactly which calls ran: that is how the idle drift
/// check's budget (three `pread`s) is held. Each call is an entry of ``SyscallTable``,
/// reached as `syscalls.open(path, flags)`. (libsystemd's two sends, sd_notify and the
/// journal, sit behind SystemdKit's types.)
@dynamicMemberLookup
public struct Syscalls: Sendable {
    /// Every call, each with its name and body.
    public var table: SyscallTable
    /// Where calls are recorded, if anywhere.
    var trace: SyscallTrace?

    /// A seam making the calls of `table`.
    public init(table: SyscallTable) { self.table = table }

    /// The real C library calls, retried on EINTR where a call can be interrupted.
    public static let live = Syscalls(table: SyscallTable())

    /// The entry `call` of the table, recording into this seam's trace; setting it replaces
    /// the entry's body (its name stays).
    public subscript<each Argument, Output>(dynamicMember call: WritableKeyPath<SyscallTable, SyscallEntry<repeat each Argument, Output>>)
        -> SyscallEntry<repeat each Argument, Output> {
        get {
            var entry = table[keyPath: call]
            entry.trace = trace
            return entry
        }
        set { table[keyPath: call].body = newValue.body }
    }

    /// This seam, with every call also recorded in `trace`.
    public func recording(into trace: SyscallTrace) -> Syscalls {
        var seam = self
        seam.trace = trace
        return seam
    }
}
