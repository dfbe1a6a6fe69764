import CLibbpf
#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel

/// libbpf, loaded at run time: keepalived-tune does not link it (see CLibbpf.h for why).
///
/// Every libbpf call of the BPF layer goes through ``call(_:_:)``, which clears what libbpf
/// printed on this thread before the call and turns a failure into a ``BPFError`` carrying
/// libbpf's own words (a verifier log, a CO-RE relocation that failed).
public enum Libbpf {
    /// Debian 12's libbpf1.
    public static let soname = "libbpf.so.1"

    /// Loads libbpf (once per process; later calls return at once); the reason it cannot be.
    /// Touches the file system only through dlopen(3).
    public static func load(soname: String = Libbpf.soname) -> BPFUnavailable? {
        var error = [CChar](repeating: 0, count: 512)
        guard kt_libbpf_load(soname, &error, error.count) != 0 else { return nil }
        return .noLibbpf(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// The loaded libbpf's version, e.g. `v1.1`; "" before a successful ``load(soname:)``.
    public static var version: String { String(cString: kt_libbpf_version()) }

    /// Runs one libbpf call that returns 0 or a negative errno.
    static func call(_ operation: @autoclosure () -> String, _ body: () -> Int32) throws(BPFError) {
        kt_libbpf_log_clear()
        let result = body()
        if result < 0 { throw BPFError(operation(), errno: -result) }
    }

    /// Runs one libbpf call that returns a descriptor or a negative errno.
    static func descriptor(_ operation: @autoclosure () -> String, _ body: () -> Int32) throws(BPFError) -> Int32 {
        kt_libbpf_log_clear()
        let result = body()
        if result < 0 { throw BPFError(operation(), errno: -result) }
        return result
    }

    /// Runs one libbpf call that returns a pointer, or NULL with errno set.
    static func pointer(_ operation: @autoclosure () -> String, _ body: () -> OpaquePointer?) throws(BPFError) -> OpaquePointer {
        kt_libbpf_log_clear()
        guard let result = body() else { throw BPFError(operation(), errno: errno) }
        return result
    }
}

/// A libbpf or kernel call of the BPF layer that failed: what was being done, the errno,
/// and what libbpf printed meanwhile. ``unavailable`` says it as a reason the hooks are off.
public struct BPFError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was being done, e.g. `attaching keepalive_at_birth to /sys/fs/cgroup`.
    public let operation: String
    /// The errno it failed with.
    public let errno: Errno
    /// What libbpf printed on this thread during the call (the verifier's log on a failed
    /// load); "" if nothing.
    public let log: String
    /// The reason to report instead of the errno, when one is known before any call.
    let reason: BPFUnavailable?

    /// A failure of `operation` with `code`; takes the log libbpf printed on this thread.
    init(_ operation: String, errno code: Int32) {
        self.operation = operation
        self.errno = Errno(code)
        self.log = String(cString: kt_libbpf_log())
        self.reason = nil
    }

    /// A failure known without a call (libbpf missing, a path on the wrong file system).
    init(_ operation: String, unavailable: BPFUnavailable) {
        self.operation = operation
        self.errno = Errno(0)
        self.log = ""
        self.reason = unavailable
    }

    /// The failure as the reason the hooks are switched off: EPERM names the capabilities the
    /// calling thread lacks, a verifier complaint says what the kernel lacks.
    public var unavailable: BPFUnavailable {
        if let reason { return reason }
        return BPFUnavailable.classifyLoad(errno: errno.code, log: log, effective: ThreadCapabilities.effective())
    }

    /// What failed and why, as a sentence.
    public var description: String {
        if let reason { return "\(operation): \(reason)" }
        let verdict = BPFUnavailable.kernelVerdict(in: log) ?? ""
        return "\(operation) failed: \(errno)" + (verdict.isEmpty ? "" : " (\(verdict))")
    }
}

/// The calling thread's effective capabilities: capabilities are per thread, and the
/// kernel checks the loading thread's.
enum ThreadCapabilities {
    /// `CapEff:` of /proc/thread-self/status; `nil` if it cannot be read.
    static func effective() -> UInt64? {
        guard let file = fopen("/proc/thread-self/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("CapEff:") {
                return UInt64(text.dropFirst(7).trimmingCharacters(in: " \t\n"), radix: 16)
            }
        }
        return nil
    }
}

/// Trimming without Foundation.
extension StringProtocol {
    /// The text without leading and trailing characters from `set`.
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
