import Foundation
import KeepaliveModel
import KeepaliveOS
import Testing

/// `pidfd_getfd` on a socket of this very process (the same rights check as for another's):
/// what is read is the socket's own state, keepalive turned on through the duplicate is on
/// for the original, and a descriptor that does not hold the socket expected is left alone.
@Suite("Another process's socket through pidfd_getfd")
struct SocketAccessTests {
    /// A new socket of `domain` and `type`, close-on-exec; the caller closes it.
    static func closeOnExecSocket(_ domain: Int32, _ type: Int32 = Int32(SOCK_STREAM.rawValue)) throws -> Int32 {
        let fd = Glibc.socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        return fd
    }

    /// The identity `fd` has: its inode, as a socket of `family`.
    static func identity(_ fd: Int32, family: Int32 = AF_INET) throws -> SocketIdentity {
        var status = stat()
        try #require(fstat(fd, &status) == 0)
        return SocketIdentity(inode: UInt64(status.st_ino), family: family)
    }

    @Test func keepaliveIsReadAndTurnedOnThroughADuplicate() throws {
        let fd = try Self.closeOnExecSocket(AF_INET)
        defer { close(fd) }
        let access = SocketAccess(syscalls: .live)
        let identity = try Self.identity(fd)
        let sysctls = KeepaliveValues(time: 7200, intvl: 75, probes: 9)
        let before = try access.inspect(pid: getpid(), fd: fd, expecting: identity, sysctls: .kernelDefaults).get()
        #expect(!before.on)
        let pidfd = try Syscalls.live.openProcess(getpid()).get()
        defer { close(pidfd) }
        #expect(try access.enableKeepalive(pidfd: pidfd, fd: fd, expecting: identity).get() == true)
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &value, &length) == 0 && value == 1, "the original socket has it")
        #expect(try access.enableKeepalive(pidfd: pidfd, fd: fd, expecting: identity).get() == false, "idempotent")
        var idle: Int32 = 300
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, socklen_t(MemoryLayout<Int32>.size))
        let after = try access.inspect(pid: getpid(), fd: fd, expecting: identity, sysctls: sysctls).get()
        #expect(after.on)
        #expect(after.options.idle == 300)
        #expect(after.options.interval == nil, "the sysctl's value is not the socket's own")
    }

    /// Issue 32, finding 1, at the seam: another socket at the number (another TCP socket, an
    /// AF_UNIX one, the right inode but the wrong family) is `.replaced`, and never changed.
    @Test func aDescriptorThatHoldsAnotherSocketIsLeftAlone() throws {
        let tcp = try Self.closeOnExecSocket(AF_INET), unix = try Self.closeOnExecSocket(AF_UNIX)
        defer { close(tcp); close(unix) }
        let pidfd = try Syscalls.live.openProcess(getpid()).get()
        defer { close(pidfd) }
        let access = SocketAccess(syscalls: .live)
        let other = try Self.identity(unix)
        #expect(access.enableKeepalive(pidfd: pidfd, fd: tcp, expecting: other) == .failure(.vanished(.replaced)))
        #expect(access.enableKeepalive(pidfd: pidfd, fd: unix, expecting: try Self.identity(tcp)) == .failure(.vanished(.replaced)))
        #expect(access.enableKeepalive(pidfd: pidfd, fd: unix, expecting: try Self.identity(unix, family: AF_UNIX)) == .failure(.vanished(.replaced)),
                "an AF_UNIX socket is never taken for a TCP one")
        #expect(access.enableKeepalive(pidfd: pidfd, fd: tcp, expecting: try Self.identity(tcp, family: AF_INET6)) == .failure(.vanished(.replaced)))
        for fd in [tcp, unix] {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            #expect(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &value, &length) == 0 && value == 0, "fd \(fd) untouched")
        }
    }

    @Test func aProcessThatIsGoneIsAnError() {
        let identity = SocketIdentity(inode: 1, family: AF_INET)
        #expect(SocketAccess(syscalls: .live).inspect(pid: 999_999_9, fd: 3, expecting: identity, sysctls: .kernelDefaults).map(\.on) == .failure(.vanished(.exited)))
    }
}
