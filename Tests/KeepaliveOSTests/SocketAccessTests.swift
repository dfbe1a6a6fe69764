import Foundation
import KeepaliveModel
import KeepaliveOS
import Testing

/// `pidfd_getfd` on a socket of this very process (the same rights check as for another's):
/// what is read is the socket's own state, and keepalive turned on through the duplicate is
/// on for the original.
@Suite("Another process's socket through pidfd_getfd")
struct SocketAccessTests {
    @Test func keepaliveIsReadAndTurnedOnThroughADuplicate() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        let access = SocketAccess()
        let sysctls = KeepaliveValues(time: 7200, intvl: 75, probes: 9)
        let before = try access.inspect(pid: getpid(), fd: fd, sysctls: .kernelDefaults).get()
        #expect(!before.on)
        let pidfd = try Syscalls.live.openProcess(getpid()).get()
        defer { close(pidfd) }
        #expect(try access.enableKeepalive(pidfd: pidfd, fd: fd).get() == true)
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &value, &length) == 0 && value == 1, "the original socket has it")
        #expect(try access.enableKeepalive(pidfd: pidfd, fd: fd).get() == false, "idempotent")
        var idle: Int32 = 300
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, socklen_t(MemoryLayout<Int32>.size))
        let after = try access.inspect(pid: getpid(), fd: fd, sysctls: sysctls).get()
        #expect(after.on)
        #expect(after.options.idle == 300)
        #expect(after.options.interval == nil, "the sysctl's value is not the socket's own")
    }

    @Test func aProcessThatIsGoneIsAnError() {
        #expect((try? SocketAccess().inspect(pid: 999_999_9, fd: 3, sysctls: .kernelDefaults).get()) == nil)
    }
}
