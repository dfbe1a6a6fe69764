import Foundation
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// The seam's recorder: every entry of the table is recorded, under the name of its own
/// system call, and the table's names are distinct (a call recorded under another's name,
/// as `readSignal` once was under `read`, is a duplicate here).
@Suite("The syscall seam")
struct SyscallSeamTests {
    /// Each entry's label in the table and its name, in declaration order.
    static let entries: [(label: String, name: String)] = Mirror(reflecting: Syscalls.live.table).children.map {
        ($0.label ?? "", ($0.value as? any NamedSyscall)?.name ?? "")
    }

    /// A path that does not exist: the probes fail without touching anything.
    static let absent = "/nonexistent-keepalived-tune-probe/x"

    /// One call of each entry, made with a bad descriptor, an absent path or a zero size, so
    /// that it fails (or does nothing) and touches nothing; the calls that would make a
    /// descriptor or block signals have their body replaced. Keyed by the entry's label, with
    /// the name its call must be recorded under.
    static let probes: [(label: String, name: String, call: @Sendable (inout Syscalls) -> Void)] = [
        ("open", "open", { _ = $0.open(absent, O_RDONLY) }),
        ("pread", "pread", { seam in withBuffer { _ = seam.pread(-1, $0, 0) } }),
        ("pwrite", "pwrite", { seam in withBuffer { _ = seam.pwrite(-1, UnsafeRawBufferPointer($0), 0) } }),
        ("read", "read", { seam in withBuffer { _ = seam.read(-1, $0) } }),
        ("write", "write", { seam in withBuffer { _ = seam.write(-1, UnsafeRawBufferPointer($0)) } }),
        ("pipe", "pipe2", { seam in
            seam.pipe.body = { .failure(Errno(ENOSYS)) }   // the live call makes two descriptors
            _ = seam.pipe()
        }),
        ("ftruncate", "ftruncate", { _ = $0.ftruncate(-1, 0) }),
        ("fstat", "fstat", { _ = $0.fstat(-1) }),
        ("close", "close", { $0.close(-1) }),
        ("readDirectory", "readdir", { _ = $0.readDirectory(absent) }),
        ("pathStatus", "stat", { _ = $0.pathStatus(absent) }),
        ("linkStatus", "lstat", { _ = $0.linkStatus(absent) }),
        ("realPath", "realpath", { _ = $0.realPath(absent) }),
        ("readLink", "readlink", { _ = $0.readLink(absent) }),
        ("poll", "poll", { seam in
            var entry = pollfd(fd: -1, events: 0, revents: 0)
            _ = withUnsafeMutablePointer(to: &entry) { seam.poll($0, 1, 0) }
        }),
        ("inotifyInit", "inotify_init1", { seam in
            seam.inotifyInit.body = { .failure(Errno(ENOSYS)) }
            _ = seam.inotifyInit()
        }),
        ("inotifyAddWatch", "inotify_add_watch", { _ = $0.inotifyAddWatch(-1, absent, 0) }),
        ("inotifyRemoveWatch", "inotify_rm_watch", { $0.inotifyRemoveWatch(-1, 1) }),
        ("signalFD", "signalfd", { seam in
            seam.signalFD.body = { .failure(Errno(ENOSYS)) }   // the live call blocks signals
            _ = seam.signalFD()
        }),
        ("readSignal", "signalfd_read", { _ = $0.readSignal(-1) }),
        ("adviseDontNeed", "madvise", { _ = $0.adviseDontNeed(0, 0) }),
        ("enterNetworkNamespace", "setns", { _ = $0.enterNetworkNamespace(-1) }),
        ("makeDirectory", "mkdir", { _ = $0.makeDirectory(absent, 0o700) }),
        ("lockFile", "flock", { _ = $0.lockFile(-1) }),
        ("rename", "rename", { _ = $0.rename(absent, absent + "2") }),
        ("unlink", "unlink", { _ = $0.unlink(absent) }),
        ("changeMode", "fchmod", { _ = $0.changeMode(-1, 0o600) }),
        ("socket", "socket", { _ = $0.socket(-1, 0, 0) }),
        ("send", "send", { seam in withBuffer { _ = seam.send(-1, UnsafeRawBufferPointer($0)) } }),
        ("bind", "bind", { seam in withBuffer { _ = seam.bind(-1, UnsafeRawBufferPointer($0)) } }),
        ("receive", "recvfrom", { seam in withBuffer { buffer in withBuffer { _ = seam.receive(-1, buffer, $0, 0) } } }),
        ("openProcess", "pidfd_open", { _ = $0.openProcess(-1) }),
        ("duplicateFromProcess", "pidfd_getfd", { _ = $0.duplicateFromProcess(-1, 0) }),
        ("socketOption", "getsockopt", { _ = $0.socketOption(-1, SOL_SOCKET, SO_KEEPALIVE) }),
        ("socketOption64", "getsockopt64", { _ = $0.socketOption64(-1, SOL_SOCKET, SO_KEEPALIVE) }),
        ("descriptorLimit", "getrlimit", { _ = $0.descriptorLimit() }),
        ("setDescriptorLimit", "setrlimit", { seam in
            seam.setDescriptorLimit.body = { _, _ in .failure(Errno(EPERM)) }   // the live call changes this process's limit
            _ = seam.setDescriptorLimit(1024, 1024)
        }),
        ("trimHeap", "malloc_trim", { $0.trimHeap() }),
        ("fixHeapThresholds", "mallopt", { seam in
            seam.fixHeapThresholds.body = {}   // the live call changes this process's allocator
            seam.fixHeapThresholds()
        }),
        ("setSocketOption", "setsockopt", { _ = $0.setSocketOption(-1, SOL_SOCKET, SO_KEEPALIVE, 1) }),
        ("readLinkAt", "readlinkat", { seam in withBuffer { _ = seam.readLinkAt(-1, "0", $0) } }),
        ("extendedAttribute", "getxattr", { _ = $0.extendedAttribute(absent, "system.sockprotoname") }),
    ]

    /// Runs `body` on a small scratch buffer.
    static func withBuffer(_ body: (UnsafeMutableRawBufferPointer) -> Void) {
        withUnsafeTemporaryAllocation(byteCount: 16, alignment: 8, body)
    }

    @Test func everyEntryHasANameOfItsOwn() {
        let names = Self.entries.map(\.name)
        #expect(!names.contains(""), "every entry is a NamedSyscall with a name")
        #expect(Set(names).count == names.count, "names used twice: \(Dictionary(grouping: names) { $0 }.filter { $1.count > 1 }.keys.sorted())")
    }

    @Test func everyEntryIsRecordedUnderItsOwnName() {
        #expect(Self.probes.map(\.label) == Self.entries.map(\.label), "one probe per entry of the table, in its order")
        let declared = Dictionary(uniqueKeysWithValues: Self.entries.map { ($0.label, $0.name) })
        for probe in Self.probes {
            let trace = SyscallTrace()
            var seam = Syscalls.live.recording(into: trace)
            probe.call(&seam)
            #expect(trace.names == [probe.name], "\(probe.label): \(trace.calls)")
            #expect(declared[probe.label] == probe.name, "\(probe.label) is declared as \(declared[probe.label] ?? "nothing")")
        }
    }

    @Test func aSeamThatDoesNotRecordRecordsNothingAndAReplacedBodyKeepsItsName() {
        let trace = SyscallTrace()
        var seam = Syscalls.live
        seam.fstat.body = { _ in .failure(Errno(EBADF)) }
        _ = seam.fstat(0)
        #expect(trace.calls.isEmpty)
        let recording = seam.recording(into: trace)
        #expect(recording.fstat(0) == .failure(Errno(EBADF)), "the replaced body is what a recording seam calls")
        #expect(trace.calls.map(\.description) == ["fstat(0)"])
    }

    /// Entering a namespace opens its file, setns(2)es a thread of its own into it and
    /// closes the file: all of it through the seam. (Into this process's own namespace,
    /// which changes nothing; setns needs CAP_SYS_ADMIN.)
    @Test(.enabled(if: geteuid() == 0, "setns(2) needs CAP_SYS_ADMIN"))
    func enteringANamespaceGoesThroughTheSeam() throws {
        let trace = SyscallTrace()
        let ran = NetworkNamespace.run(in: "/proc/self/ns/net", syscalls: Syscalls.live.recording(into: trace)) { 42 }
        #expect(try ran.get() == 42)
        #expect(trace.names == ["open", "setns", "close"], "\(trace.calls)")
    }
}
