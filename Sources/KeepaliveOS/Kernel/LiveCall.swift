import CLinux
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The bodies of ``SyscallTable``'s live entries that take more than a line, and the
/// conversions of C results to `Result`.
enum LiveCall {
    /// Runs a call until it does not fail with EINTR.
    static func retrying<T: BinaryInteger>(_ call: () -> T) -> Result<T, Errno> {
        while true {
            let result = call()
            if result >= 0 { return .success(result) }
            if errno != EINTR { return .failure(.current) }
        }
    }

    /// A descriptor, or the errno of the call that returned -1.
    static func descriptor(_ fd: Int32) -> Result<Int32, Errno> {
        fd >= 0 ? .success(fd) : .failure(.current)
    }

    /// Success for 0, the errno for -1.
    static func status(_ result: Int32) -> Result<Void, Errno> {
        result == 0 ? .success(()) : .failure(.current)
    }

    /// `opendir(3)`/`readdir(3)`: the names in a directory, without `.` and `..`.
    @Sendable static func readDirectory(_ path: String) -> Result<[String], Errno> {
        guard let directory = opendir(path) else { return .failure(.current) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return .success(names)
    }

    /// `readlink(2)`: a symlink's target, as written.
    @Sendable static func readLink(_ path: String) -> Result<String, Errno> {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = Glibc.readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return .failure(.current) }
        return .success(String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// `getrlimit(2)` of RLIMIT_NOFILE, each limit clamped to `Int32.max` (infinity too).
    @Sendable static func descriptorLimit() -> Result<(soft: Int, hard: Int), Errno> {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return .failure(.current) }
        func clamped(_ value: rlim_t) -> Int { value == rlim_t.max ? Int(Int32.max) : Int(min(value, rlim_t(Int32.max))) }
        return .success((clamped(limit.rlim_cur), clamped(limit.rlim_max)))
    }

    /// `getsockopt(2)` of an integer option (an int, or 64 bits).
    @Sendable static func socketOption<Value: FixedWidthInteger>(_ fd: Int32, _ level: Int32, _ name: Int32) -> Result<Value, Errno> {
        var value: Value = 0
        var length = socklen_t(MemoryLayout<Value>.size)
        return getsockopt(fd, level, name, &value, &length) == 0 ? .success(value) : .failure(.current)
    }

    /// `getxattr(2)` of a short text attribute.
    @Sendable static func extendedAttribute(_ path: String, _ name: String) -> Result<String, Errno> {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = getxattr(path, name, &buffer, buffer.count)
        guard count >= 0 else { return .failure(.current) }
        return .success(String(decoding: buffer.prefix(count).prefix { $0 != 0 }, as: UTF8.self))
    }
}
