import Foundation
import KeepaliveModel
import KeepaliveOS
import Testing

@Suite("Process table")
struct ProcessTableTests {
    /// A socket this test opens is found held by this process, with its command.
    @Test func aSocketThisProcessHoldsIsAttributedToIt() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var status = stat()
        try #require(fstat(fd, &status) == 0)
        let table = ProcessTable.scan()
        #expect(table.holders[UInt64(status.st_ino)]?.contains(SocketHolder(pid: getpid(), fd: fd)) == true)
        #expect(table.processes[getpid()]?.command.isEmpty == false)
        #expect((table.processes[getpid()]?.startTime ?? 0) > 0, "its start time, which tells it from a later process with its PID")
    }

    @Test(arguments: [
        ("0::/system.slice/nginx.service\n", "/system.slice/nginx.service", "nginx.service"),
        ("0::/user.slice/user-1000.slice/session-2.scope\n", "/user.slice/user-1000.slice/session-2.scope", "session-2.scope"),
        ("0::/system.slice/app.service/worker\n", "/system.slice/app.service/worker", "app.service"),
        ("12:cpu:/x\n1:name=systemd:/system.slice/docker-0123abcd.scope\n0::/\n", "/", nil),
        ("12:cpu:/x\n1:name=systemd:/system.slice/docker-0123abcd.scope\n", "/system.slice/docker-0123abcd.scope", "docker-0123abcd.scope"),
        ("11:memory:/libpod_parent/libpod-1f2e\n", nil, nil),
    ] as [(String, String?, String?)])
    func theUnitComesFromTheCgroupPath(text: String, path: String?, unit: String?) {
        #expect(CgroupUnit.path(text) == path)
        #expect(path.flatMap(CgroupUnit.unit(ofPath:)) == unit)
    }
}
