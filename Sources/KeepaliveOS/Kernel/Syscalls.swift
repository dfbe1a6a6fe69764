import CLinux
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The one seam through which the OS layer and the daemon's loop make system calls: file
/// access, the event sources the loop waits on (poll, inotify, signalfd) and the memory
/// advice that hands code pages back.
///
/// ``live`` calls the C library. Tests replace single calls to inject faults (a chosen
/// errno, a short write), or wrap the whole seam with ``recording(into:)`` to see exactly
/// which calls ran: that is how the idle drift check's budget (three `pread`s) is held.
/// (libsystemd's two sends, sd_notify and the journal, sit behind SystemdKit's types.)
public struct Syscalls: Sendable {
    /// `open(2)` with O_CLOEXEC (and mode 0644 less the umask, when O_CREAT creates the
    /// file): returns the descriptor.
    public var open: @Sendable (_ path: String, _ flags: Int32) -> Result<Int32, Errno>
    /// `pread(2)`: reads into the buffer at the offset, returns the byte count.
    public var pread: @Sendable (_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int) -> Result<Int, Errno>
    /// `pwrite(2)`: writes the bytes at the offset, returns the byte count.
    public var pwrite: @Sendable (_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ offset: Int) -> Result<Int, Errno>
    /// `read(2)`: the next bytes of a stream (inotify events, /proc files).
    public var read: @Sendable (_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno>
    /// `ftruncate(2)`: cuts a file to a length.
    public var ftruncate: @Sendable (_ fd: Int32, _ length: Int) -> Result<Void, Errno>
    /// `fstat(2)`: whether the descriptor is a regular file, a directory, and its size.
    public var fstat: @Sendable (_ fd: Int32) -> Result<FileStatus, Errno>
    /// `close(2)`.
    public var close: @Sendable (_ fd: Int32) -> Void
    /// `opendir(3)`/`readdir(3)`: the names in a directory, without `.` and `..`.
    public var readDirectory: @Sendable (_ path: String) -> Result<[String], Errno>
    /// `stat(2)` (`lstat(2)` when `follow` is false) of a path.
    public var pathStatus: @Sendable (_ path: String, _ follow: Bool) -> Result<FileStatus, Errno>
    /// `realpath(3)`: the canonical absolute path, every symlink resolved.
    public var realPath: @Sendable (_ path: String) -> Result<String, Errno>
    /// `readlink(2)`: a symlink's target, as written.
    public var readLink: @Sendable (_ path: String) -> Result<String, Errno>
    /// `poll(2)` on `count` entries: how many are ready; 0 on a timeout or EINTR.
    public var poll: @Sendable (_ entries: UnsafeMutablePointer<pollfd>, _ count: Int, _ timeoutMilliseconds: Int32) -> Int
    /// `inotify_init1(2)`, non-blocking and close-on-exec.
    public var inotifyInit: @Sendable () -> Result<Int32, Errno>
    /// `inotify_add_watch(2)`: the watch descriptor.
    public var inotifyAddWatch: @Sendable (_ fd: Int32, _ path: String, _ mask: UInt32) -> Result<Int32, Errno>
    /// `inotify_rm_watch(2)`; a watch the kernel already dropped is not an error here.
    public var inotifyRemoveWatch: @Sendable (_ fd: Int32, _ watch: Int32) -> Void
    /// `signalfd(2)` for SIGHUP, SIGTERM and SIGINT (blocked in the calling thread first).
    public var signalFD: @Sendable () -> Result<Int32, Errno>
    /// One pending signal from a signalfd: its number, 0 if none, -1 on error.
    public var readSignal: @Sendable (_ fd: Int32) -> Int32
    /// `madvise(2)` with MADV_DONTNEED on `length` bytes at `address`: whether it succeeded.
    public var adviseDontNeed: @Sendable (_ address: UInt, _ length: Int) -> Bool
    /// `mkdir(2)` with a mode.
    public var makeDirectory: @Sendable (_ path: String, _ mode: UInt32) -> Result<Void, Errno>
    /// `flock(2)` with LOCK_EX | LOCK_NB: EWOULDBLOCK while another holds it.
    public var lockFile: @Sendable (_ fd: Int32) -> Result<Void, Errno>
    /// `rename(2)`.
    public var rename: @Sendable (_ from: String, _ to: String) -> Result<Void, Errno>
    /// `unlink(2)`.
    public var unlink: @Sendable (_ path: String) -> Result<Void, Errno>
    /// `fchmod(2)`.
    public var changeMode: @Sendable (_ fd: Int32, _ mode: UInt32) -> Result<Void, Errno>
    /// `socket(2)`, close-on-exec.
    public var socket: @Sendable (_ domain: Int32, _ type: Int32, _ protocol: Int32) -> Result<Int32, Errno>
    /// `send(2)` of the whole buffer (a datagram).
    public var send: @Sendable (_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, Errno>
    /// `pidfd_open(2)` then `pidfd_getfd(2)`: a duplicate of another process's descriptor.
    public var duplicateDescriptor: @Sendable (_ pid: Int32, _ fd: Int32) -> Result<Int32, Errno>
    /// `pidfd_open(2)`: a descriptor (close-on-exec) that refers to process `pid` alone, even
    /// after its PID is given to another.
    public var openProcess: @Sendable (_ pid: Int32) -> Result<Int32, Errno>
    /// `pidfd_getfd(2)`: a duplicate (close-on-exec) of descriptor `fd` of the process behind
    /// `pidfd`; ESRCH once that process has exited.
    public var duplicateFromProcess: @Sendable (_ pidfd: Int32, _ fd: Int32) -> Result<Int32, Errno>
    /// `getsockopt(2)` of an int option.
    public var socketOption: @Sendable (_ fd: Int32, _ level: Int32, _ name: Int32) -> Result<Int32, Errno>
    /// `getsockopt(2)` of `SO_NETNS_COOKIE`: the cookie of the network namespace the socket
    /// belongs to, whatever namespace its holder is in (Linux 5.14; ENOPROTOOPT before).
    public var networkNamespaceCookie: @Sendable (_ fd: Int32) -> Result<UInt64, Errno>
    /// `setsockopt(2)` of an int option.
    public var setSocketOption: @Sendable (_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Result<Void, Errno>
    /// The socket descriptors in a `/proc/PID/fd` directory: each entry's `readlinkat(2)`
    /// parsed as `socket:[INODE]`, other descriptors left out. One directory descriptor and
    /// a small buffer for the whole directory: the connections audit reads 100,000 of them.
    public var socketDescriptors: @Sendable (_ directory: String) -> Result<[(fd: Int32, inode: UInt64)], Errno>
    /// `getxattr(2)` of a short text attribute, e.g. `system.sockprotoname` of `/proc/PID/fd/N`.
    public var extendedAttribute: @Sendable (_ path: String, _ name: String) -> Result<String, Errno>

    /// The real C library calls, retried on EINTR.
    public static let live = Syscalls(
        open: { path, flags in retrying { Glibc.open(path, flags | O_CLOEXEC, 0o644) }.map { Int32($0) } },
        pread: { fd, buffer, offset in
            retrying { Int(Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset))) }
        },
        pwrite: { fd, bytes, offset in
            retrying { Int(Glibc.pwrite(fd, bytes.baseAddress, bytes.count, off_t(offset))) }
        },
        read: { fd, buffer in retrying { Int(Glibc.read(fd, buffer.baseAddress, buffer.count)) } },
        ftruncate: { fd, length in
            retrying { Glibc.ftruncate(fd, off_t(length)) }.map { _ in () }
        },
        fstat: { fd in
            var info = Glibc.stat()
            guard Glibc.fstat(fd, &info) == 0 else { return .failure(.current) }
            return .success(FileStatus(info))
        },
        close: { fd in _ = Glibc.close(fd) },
        readDirectory: { path in
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
        },
        pathStatus: { path, follow in
            var info = Glibc.stat()
            let result = follow ? stat(path, &info) : lstat(path, &info)
            return result == 0 ? .success(FileStatus(info)) : .failure(.current)
        },
        realPath: { path in
            guard let resolved = Glibc.realpath(path, nil) else { return .failure(.current) }
            defer { free(resolved) }
            return .success(String(cString: resolved))
        },
        readLink: { path in
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = Glibc.readlink(path, &buffer, buffer.count - 1)
            guard count >= 0 else { return .failure(.current) }
            return .success(String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        },
        poll: { entries, count, timeout in
            let ready = Glibc.poll(entries, nfds_t(count), timeout)
            return ready < 0 ? 0 : Int(ready)
        },
        inotifyInit: {
            let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
            return fd >= 0 ? .success(fd) : .failure(.current)
        },
        inotifyAddWatch: { fd, path, mask in
            let watch = inotify_add_watch(fd, path, mask)
            return watch >= 0 ? .success(watch) : .failure(.current)
        },
        inotifyRemoveWatch: { fd, watch in _ = inotify_rm_watch(fd, watch) },
        signalFD: {
            let fd = kt_signalfd_for_daemon_signals()
            return fd >= 0 ? .success(fd) : .failure(.current)
        },
        readSignal: { fd in kt_signalfd_read(fd) },
        adviseDontNeed: { address, length in
            madvise(UnsafeMutableRawPointer(bitPattern: address), length, MADV_DONTNEED) == 0
        },
        makeDirectory: { path, mode in Glibc.mkdir(path, mode_t(mode)) == 0 ? .success(()) : .failure(.current) },
        lockFile: { fd in retrying { flock(fd, LOCK_EX | LOCK_NB) }.map { _ in () } },
        rename: { from, to in Glibc.rename(from, to) == 0 ? .success(()) : .failure(.current) },
        unlink: { path in Glibc.unlink(path) == 0 ? .success(()) : .failure(.current) },
        changeMode: { fd, mode in fchmod(fd, mode_t(mode)) == 0 ? .success(()) : .failure(.current) },
        socket: { domain, type, proto in
            let fd = Glibc.socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), proto)
            return fd >= 0 ? .success(fd) : .failure(.current)
        },
        send: { fd, bytes in retrying { Int(Glibc.send(fd, bytes.baseAddress, bytes.count, 0)) } },
        duplicateDescriptor: { pid, fd in
            let pidfd = kt_pidfd_open(pid)
            guard pidfd >= 0 else { return .failure(.current) }
            defer { _ = Glibc.close(pidfd) }
            let copy = kt_pidfd_getfd(pidfd, fd)
            return copy >= 0 ? .success(copy) : .failure(.current)
        },
        openProcess: { pid in
            let pidfd = kt_pidfd_open(pid)
            return pidfd >= 0 ? .success(pidfd) : .failure(.current)
        },
        duplicateFromProcess: { pidfd, fd in
            let copy = kt_pidfd_getfd(pidfd, fd)
            return copy >= 0 ? .success(copy) : .failure(.current)
        },
        socketOption: { fd, level, name in
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            return getsockopt(fd, level, name, &value, &length) == 0 ? .success(value) : .failure(.current)
        },
        networkNamespaceCookie: { fd in
            var cookie: UInt64 = 0
            var length = socklen_t(MemoryLayout<UInt64>.size)
            return getsockopt(fd, SOL_SOCKET, 71 /* SO_NETNS_COOKIE */, &cookie, &length) == 0 ? .success(cookie) : .failure(.current)
        },
        setSocketOption: { fd, level, name, value in
            var value = value
            return setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 ? .success(()) : .failure(.current)
        },
        socketDescriptors: { path in
            guard let directory = opendir(path) else { return .failure(.current) }
            defer { closedir(directory) }
            let fd = dirfd(directory)
            var found: [(fd: Int32, inode: UInt64)] = []
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { link in
                while let entry = readdir(directory) {
                    // Names are digits: parsed, and passed to readlinkat, from d_name itself.
                    var number: Int32 = -1
                    let count = withUnsafeBytes(of: entry.pointee.d_name) { raw -> Int in
                        var value: Int32 = 0, length = 0
                        for byte in raw {
                            if byte == 0 { break }
                            guard (0x30...0x39).contains(byte) else { return -1 }
                            value = value &* 10 &+ Int32(byte - 0x30)
                            length += 1
                        }
                        guard length > 0 else { return -1 }
                        number = value
                        return readlinkat(fd, raw.baseAddress!.assumingMemoryBound(to: CChar.self),
                                          UnsafeMutableRawPointer(link.baseAddress!).assumingMemoryBound(to: CChar.self), 64)
                    }
                    // "socket:[" INODE "]"
                    guard count > 9, link[0] == 0x73, link[6] == 0x3A, link[7] == 0x5B, link[count - 1] == 0x5D else { continue }
                    var inode: UInt64 = 0
                    for index in 8..<(count - 1) { inode = inode &* 10 &+ UInt64(link[index] &- 0x30) }
                    found.append((number, inode))
                }
                return .success(found)
            }
        },
        extendedAttribute: { path, name in
            var buffer = [UInt8](repeating: 0, count: 64)
            let count = getxattr(path, name, &buffer, buffer.count)
            guard count >= 0 else { return .failure(.current) }
            return .success(String(decoding: buffer.prefix(count).prefix { $0 != 0 }, as: UTF8.self))
        })

    /// Runs a call until it does not fail with EINTR.
    private static func retrying<T: BinaryInteger>(_ call: () -> T) -> Result<T, Errno> {
        while true {
            let result = call()
            if result >= 0 { return .success(result) }
            if errno != EINTR { return .failure(.current) }
        }
    }
}
