import CLinux
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Every call of the ``Syscalls`` seam, each declared once: the name a trace records it
/// under, what the trace shows of its arguments, and (in ``init()``) the real C library call.
/// A call added here is recorded by every recording seam, under the name given here.
public struct SyscallTable: Sendable {
    /// `open(2)` with O_CLOEXEC (and mode 0644 less the umask, when O_CREAT creates the
    /// file), of a path with flags: returns the descriptor.
    public var open = SyscallEntry<String, Int32, Result<Int32, Errno>>("open", subject: { path, _ in path }) { path, flags in
        LiveCall.retrying { Glibc.open(path, flags | O_CLOEXEC, 0o644) }
    }
    /// `pread(2)` of a descriptor into the buffer at an offset: the byte count.
    public var pread = SyscallEntry<Int32, UnsafeMutableRawBufferPointer, Int, Result<Int, Errno>>("pread", subject: { fd, _, _ in "\(fd)" }) { fd, buffer, offset in
        LiveCall.retrying { Int(Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset))) }
    }
    /// `pwrite(2)` of the bytes to a descriptor at an offset: the byte count.
    public var pwrite = SyscallEntry<Int32, UnsafeRawBufferPointer, Int, Result<Int, Errno>>("pwrite", subject: { fd, _, _ in "\(fd)" }) { fd, bytes, offset in
        LiveCall.retrying { Int(Glibc.pwrite(fd, bytes.baseAddress, bytes.count, off_t(offset))) }
    }
    /// `read(2)`: the next bytes of a stream (inotify events, /proc files) into the buffer.
    public var read = SyscallEntry<Int32, UnsafeMutableRawBufferPointer, Result<Int, Errno>>("read", subject: { fd, _ in "\(fd)" }) { fd, buffer in
        LiveCall.retrying { Int(Glibc.read(fd, buffer.baseAddress, buffer.count)) }
    }
    /// `write(2)` of the bytes to a stream (a pipe): the byte count.
    public var write = SyscallEntry<Int32, UnsafeRawBufferPointer, Result<Int, Errno>>("write", subject: { fd, _ in "\(fd)" }) { fd, bytes in
        LiveCall.retrying { Int(Glibc.write(fd, bytes.baseAddress, bytes.count)) }
    }
    /// `pipe2(2)` with O_CLOEXEC and O_NONBLOCK: the read end and the write end.
    public var pipe = SyscallEntry<Result<(read: Int32, write: Int32), Errno>>("pipe2", subject: { "" }) {
        var ends: [Int32] = [-1, -1]
        return kt_pipe(&ends) == 0 ? .success((ends[0], ends[1])) : .failure(.current)
    }
    /// `ftruncate(2)`: cuts a file to a length.
    public var ftruncate = SyscallEntry<Int32, Int, Result<Void, Errno>>("ftruncate", subject: { fd, _ in "\(fd)" }) { fd, length in
        LiveCall.retrying { Glibc.ftruncate(fd, off_t(length)) }.map { _ in () }
    }
    /// `fstat(2)`: whether the descriptor is a regular file, a directory, and its size.
    public var fstat = SyscallEntry<Int32, Result<FileStatus, Errno>>("fstat", subject: { "\($0)" }) { fd in
        var info = Glibc.stat()
        return Glibc.fstat(fd, &info) == 0 ? .success(FileStatus(info)) : .failure(.current)
    }
    /// `close(2)`.
    public var close = SyscallEntry<Int32, Void>("close", subject: { "\($0)" }) { fd in _ = Glibc.close(fd) }
    /// `opendir(3)`/`readdir(3)`: the names in a directory, without `.` and `..`.
    public var readDirectory = SyscallEntry<String, Result<[String], Errno>>("readdir", subject: { $0 }, LiveCall.readDirectory)
    /// `stat(2)` of a path, its symlinks followed.
    public var pathStatus = SyscallEntry<String, Result<FileStatus, Errno>>("stat", subject: { $0 }) { path in
        var info = Glibc.stat()
        return stat(path, &info) == 0 ? .success(FileStatus(info)) : .failure(.current)
    }
    /// `lstat(2)` of a path: a symlink itself, not what it points to.
    public var linkStatus = SyscallEntry<String, Result<FileStatus, Errno>>("lstat", subject: { $0 }) { path in
        var info = Glibc.stat()
        return Glibc.lstat(path, &info) == 0 ? .success(FileStatus(info)) : .failure(.current)
    }
    /// `realpath(3)`: the canonical absolute path, every symlink resolved.
    public var realPath = SyscallEntry<String, Result<String, Errno>>("realpath", subject: { $0 }) { path in
        guard let resolved = Glibc.realpath(path, nil) else { return .failure(.current) }
        defer { free(resolved) }
        return .success(String(cString: resolved))
    }
    /// `readlink(2)`: a symlink's target, as written.
    public var readLink = SyscallEntry<String, Result<String, Errno>>("readlink", subject: { $0 }, LiveCall.readLink)
    /// `poll(2)` on `count` entries with a timeout in milliseconds: how many are ready; 0 on
    /// a timeout or EINTR.
    public var poll = SyscallEntry<UnsafeMutablePointer<pollfd>, Int, Int32, Int>("poll", subject: { _, _, timeout in "\(timeout)" }) { entries, count, timeout in
        max(0, Int(Glibc.poll(entries, nfds_t(count), timeout)))
    }
    /// `inotify_init1(2)`, non-blocking and close-on-exec.
    public var inotifyInit = SyscallEntry<Result<Int32, Errno>>("inotify_init1", subject: { "" }) {
        LiveCall.descriptor(inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK)))
    }
    /// `inotify_add_watch(2)` of a path with a mask: the watch descriptor.
    public var inotifyAddWatch = SyscallEntry<Int32, String, UInt32, Result<Int32, Errno>>("inotify_add_watch", subject: { _, path, _ in path }) { fd, path, mask in
        LiveCall.descriptor(inotify_add_watch(fd, path, mask))
    }
    /// `inotify_rm_watch(2)`; a watch the kernel already dropped is not an error here.
    public var inotifyRemoveWatch = SyscallEntry<Int32, Int32, Void>("inotify_rm_watch", subject: { _, watch in "\(watch)" }) { fd, watch in
        _ = inotify_rm_watch(fd, watch)
    }
    /// `signalfd(2)` for SIGHUP, SIGTERM and SIGINT (blocked in the calling thread first).
    public var signalFD = SyscallEntry<Result<Int32, Errno>>("signalfd", subject: { "" }) {
        LiveCall.descriptor(kt_signalfd_for_daemon_signals())
    }
    /// `read(2)` of one `signalfd_siginfo` from a signalfd: the signal's number, 0 if none
    /// is pending, -1 on error.
    public var readSignal = SyscallEntry<Int32, Int32>("signalfd_read", subject: { "\($0)" }) { fd in kt_signalfd_read(fd) }
    /// `madvise(2)` with MADV_DONTNEED on `length` bytes at an address: whether it succeeded.
    public var adviseDontNeed = SyscallEntry<UInt, Int, Bool>("madvise", subject: { _, length in "\(length)" }) { address, length in
        madvise(UnsafeMutableRawPointer(bitPattern: address), length, MADV_DONTNEED) == 0
    }
    /// `setns(2)` of the calling thread into the network namespace of an nsfs descriptor.
    public var enterNetworkNamespace = SyscallEntry<Int32, Result<Void, Errno>>("setns", subject: { "\($0)" }) { fd in
        LiveCall.status(kt_setns_network(fd))
    }
    /// `mkdir(2)` of a path with a mode.
    public var makeDirectory = SyscallEntry<String, UInt32, Result<Void, Errno>>("mkdir", subject: { path, _ in path }) { path, mode in
        LiveCall.status(Glibc.mkdir(path, mode_t(mode)))
    }
    /// `flock(2)` with LOCK_EX | LOCK_NB: EWOULDBLOCK while another holds it.
    public var lockFile = SyscallEntry<Int32, Result<Void, Errno>>("flock", subject: { "\($0)" }) { fd in
        LiveCall.retrying { flock(fd, LOCK_EX | LOCK_NB) }.map { _ in () }
    }
    /// `rename(2)` of one path to another.
    public var rename = SyscallEntry<String, String, Result<Void, Errno>>("rename", subject: { _, to in to }) { from, to in
        LiveCall.status(Glibc.rename(from, to))
    }
    /// `unlink(2)`.
    public var unlink = SyscallEntry<String, Result<Void, Errno>>("unlink", subject: { $0 }) { path in LiveCall.status(Glibc.unlink(path)) }
    /// `fchmod(2)` of a descriptor to a mode.
    public var changeMode = SyscallEntry<Int32, UInt32, Result<Void, Errno>>("fchmod", subject: { fd, _ in "\(fd)" }) { fd, mode in
        LiveCall.status(fchmod(fd, mode_t(mode)))
    }
    /// `socket(2)` of a domain, type and protocol, close-on-exec.
    public var socket = SyscallEntry<Int32, Int32, Int32, Result<Int32, Errno>>("socket", subject: { domain, _, _ in "\(domain)" }) { domain, type, proto in
        LiveCall.descriptor(Glibc.socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), proto))
    }
    /// `send(2)` of the whole buffer (a datagram).
    public var send = SyscallEntry<Int32, UnsafeRawBufferPointer, Result<Int, Errno>>("send", subject: { fd, _ in "\(fd)" }) { fd, bytes in
        LiveCall.retrying { Int(Glibc.send(fd, bytes.baseAddress, bytes.count, 0)) }
    }
    /// `bind(2)` of a socket to an address (a `sockaddr_nl`, for netlink).
    public var bind = SyscallEntry<Int32, UnsafeRawBufferPointer, Result<Void, Errno>>("bind", subject: { fd, _ in "\(fd)" }) { fd, address in
        LiveCall.status(Glibc.bind(fd, address.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count)))
    }
    /// `recvfrom(2)` of one datagram into the buffer, the sender's address into the second
    /// buffer, with flags: the datagram's length (with MSG_TRUNC its whole length, which
    /// exceeds the buffer's when the buffer cut it).
    public var receive = SyscallEntry<Int32, UnsafeMutableRawBufferPointer, UnsafeMutableRawBufferPointer, Int32, Result<Int, Errno>>(
        "recvfrom", subject: { fd, _, _, _ in "\(fd)" }) { fd, buffer, address, flags in
        var length = socklen_t(address.count)
        return LiveCall.retrying {
            Int(Glibc.recvfrom(fd, buffer.baseAddress, buffer.count, flags, address.baseAddress?.assumingMemoryBound(to: sockaddr.self), &length))
        }
    }
    /// `pidfd_open(2)`: a descriptor (close-on-exec) that refers to process `pid` alone, even
    /// after its PID is given to another.
    public var openProcess = SyscallEntry<Int32, Result<Int32, Errno>>("pidfd_open", subject: { "\($0)" }) { pid in
        LiveCall.descriptor(kt_pidfd_open(pid))
    }
    /// `pidfd_getfd(2)`: a duplicate (close-on-exec) of descriptor `fd` of the process behind
    /// `pidfd`; ESRCH once that process has exited.
    public var duplicateFromProcess = SyscallEntry<Int32, Int32, Result<Int32, Errno>>("pidfd_getfd", subject: { pidfd, fd in "\(pidfd):\(fd)" }) { pidfd, fd in
        LiveCall.descriptor(kt_pidfd_getfd(pidfd, fd))
    }
    /// `getsockopt(2)` of an int option (descriptor, level, name).
    public var socketOption = SyscallEntry<Int32, Int32, Int32, Result<Int32, Errno>>("getsockopt", subject: { fd, _, _ in "\(fd)" }, LiveCall.socketOption)
    /// `getsockopt(2)` of a 64-bit option, such as `SO_NETNS_COOKIE` (descriptor, level, name).
    public var socketOption64 = SyscallEntry<Int32, Int32, Int32, Result<UInt64, Errno>>("getsockopt64", subject: { fd, _, _ in "\(fd)" }, LiveCall.socketOption)
    /// `getrlimit(2)` of RLIMIT_NOFILE: the soft and hard descriptor limits.
    public var descriptorLimit = SyscallEntry<Result<(soft: Int, hard: Int), Errno>>("getrlimit", subject: { "RLIMIT_NOFILE" }, LiveCall.descriptorLimit)
    /// `setrlimit(2)` of RLIMIT_NOFILE (soft, hard).
    public var setDescriptorLimit = SyscallEntry<Int, Int, Result<Void, Errno>>("setrlimit", subject: { soft, hard in "\(soft):\(hard)" }) { soft, hard in
        var limit = rlimit(rlim_cur: rlim_t(soft), rlim_max: rlim_t(hard))
        return LiveCall.status(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit))
    }
    /// `malloc_trim(3)` with no padding: the heap's free pages go back to the kernel, in
    /// every arena (an audit of 100,000 sockets leaves tens of MB free behind it).
    public var trimHeap = SyscallEntry<Void>("malloc_trim", subject: { "" }) { _ = malloc_trim(0) }
    /// `mallopt(3)` M_MMAP_THRESHOLD of 128 KiB, which also stops glibc raising it (and the
    /// trim threshold, up to 64 MiB) after a large block is freed: an audit's arrays of
    /// 100,000 sockets are mapped apart and unmapped when freed, and a thread arena's free
    /// top is handed back, which malloc_trim(3) does not do for arenas other than the main.
    public var fixHeapThresholds = SyscallEntry<Void>("mallopt", subject: { "M_MMAP_THRESHOLD" }) { _ = mallopt(M_MMAP_THRESHOLD, 128 << 10) }
    /// `setsockopt(2)` of an int option (descriptor, level, name, value).
    public var setSocketOption = SyscallEntry<Int32, Int32, Int32, Int32, Result<Void, Errno>>("setsockopt", subject: { fd, _, _, _ in "\(fd)" }) { fd, level, name, value in
        var value = value
        return LiveCall.status(setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)))
    }
    /// `readlinkat(2)` of a name in an open directory into the buffer: the byte count
    /// (the link's text is not terminated). For `/proc/PID/fd`, where the connections audit
    /// reads 100,000 links: one directory descriptor, one small buffer, no path per link.
    public var readLinkAt = SyscallEntry<Int32, String, UnsafeMutableRawBufferPointer, Result<Int, Errno>>("readlinkat", subject: { _, name, _ in name }) { directory, name, buffer in
        LiveCall.retrying { Glibc.readlinkat(directory, name, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), buffer.count) }
    }
    /// `getxattr(2)` of a short text attribute, e.g. `system.sockprotoname` of `/proc/PID/fd/N`.
    public var extendedAttribute = SyscallEntry<String, String, Result<String, Errno>>("getxattr", subject: { path, _ in path }, LiveCall.extendedAttribute)

    /// The real C library calls.
    public init() {}
}
