import Foundation
import KeepaliveModel
@testable import KeepaliveOS
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
        let table = ProcessTable.scan(syscalls: .live)
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
        #expect(path.flatMap { CgroupUnit.placement(ofPath: $0).unit?.description } == unit)
    }

    @Test(arguments: [
        ("socket:[12345]", 12345), ("socket:[0]", 0), ("socket:[]", nil), ("socket:[12a]", nil), ("socket:[12", nil),
        ("pipe:[12345]", nil), ("anon_inode:[eventpoll]", nil), ("/dev/null", nil), ("socket:", nil),
    ] as [(String, UInt64?)])
    func aDescriptorLinkIsASocketOnlyAsSocketInodeInBrackets(link: String, inode: UInt64?) {
        #expect(Array(link.utf8).withUnsafeBytes { ProcessTable.socketInode($0) } == inode)
    }

    @Test(arguments: [("0", 0), ("17", 17), ("", nil), (".", nil), ("+1", nil), ("1x", nil)] as [(String, Int32?)])
    func aDescriptorEntryIsDigits(name: String, fd: Int32?) {
        #expect(ProcessTable.descriptorNumber(name) == fd)
    }

    /// The seam only makes the calls: one open of the directory, one listing, one readlinkat
    /// per entry, one close; the links are parsed here. A file is left out, a socket is in.
    @Test func theSocketDescriptorsOfAProcessAreItsSocketLinks() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        let file = open("/dev/null", O_RDONLY | O_CLOEXEC)
        try #require(file >= 0)
        defer { close(file) }
        var status = stat()
        try #require(fstat(fd, &status) == 0)
        let trace = SyscallTrace()
        let found = try ProcessTable.socketDescriptors(in: "/proc/self/fd", syscalls: Syscalls.live.recording(into: trace)).get()
        #expect(found.contains { $0.fd == fd && $0.inode == UInt64(status.st_ino) })
        #expect(!found.contains { $0.fd == file })
        let names = trace.names
        #expect(names.first == "open" && names.dropFirst().first == "readdir" && names.last == "close", "\(names)")
        #expect(Set(names.dropFirst(2).dropLast()) == ["readlinkat"], "\(names)")
    }
}
