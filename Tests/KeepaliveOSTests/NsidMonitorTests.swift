import CLinux
import Foundation
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// The RTNLGRP_NSID monitor, subscribed for real inside a private network namespace the test
/// makes: a second private namespace gets an id there (a veth pair with its peer end in it)
/// and loses it (it ends), and the monitor counts exactly those events. Only the test's own
/// namespaces and its own `ip` processes are involved.
@Suite("RTNLGRP_NSID monitor (private namespaces)",
       .enabled(if: PrivateNetworkNamespace.unavailableReason == nil, Comment(rawValue: PrivateNetworkNamespace.unavailableReason ?? "")))
struct NsidMonitorTests {
    /// Drains `monitor` as its descriptor becomes readable, adding up what it saw, until
    /// `enough` holds or 10 s pass without it.
    static func seen(by monitor: NsidMonitor, until enough: (NsidMonitor.Seen) -> Bool) -> NsidMonitor.Seen {
        var total = NsidMonitor.Seen()
        let deadline = Date().addingTimeInterval(10)
        while !enough(total), Date() < deadline {
            var entry = pollfd(fd: monitor.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 1000) >= 0 else { continue }
            let drained = monitor.drain()
            total.added += drained.added
            total.removed += drained.removed
            total.ids += drained.ids
        }
        return total
    }

    @Test func aNamespaceGettingAnIdAndEndingIsCountedOnceEach() throws {
        let home = try PrivateNetworkNamespace()
        var peer: PrivateNetworkNamespace? = try PrivateNetworkNamespace()
        // The peer namespace, held by a descriptor of this process until the test lets it end.
        let peerFD = try peer!.run { open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC) }
        try #require(peerFD >= 0)
        let trace = SyscallTrace()
        let monitor = try home.run { try NsidMonitor(syscalls: Syscalls.live.recording(into: trace)) }
        #expect(trace.names == ["socket", "bind", "setsockopt"], "opened through the seam: \(trace.calls)")
        #expect(monitor.drain() == NsidMonitor.Seen(), "nothing has happened yet")
        #expect(trace.names.last == "recvfrom", "drained through the seam")

        let link = try home.run {
            try ChildProcess.run(["ip", "link", "add", "kt-nsid0", "type", "veth", "peer", "name", "kt-nsid1",
                                  "netns", "/proc/\(getpid())/fd/\(peerFD)"])
        }
        try #require(link.status == 0, "\(link)")
        let added = Self.seen(by: monitor) { $0.added > 0 }
        #expect(added.added == 1 && added.removed == 0 && added.ids.count == 1, "\(added)")
        #expect(Self.seen(by: monitor) { _ in true } == NsidMonitor.Seen(), "one event, read once")

        close(peerFD)
        peer = nil   // its thread ends: the namespace dies, and its id here with it
        let removed = Self.seen(by: monitor) { $0.removed > 0 }
        #expect(removed.removed == 1 && removed.added == 0, "\(removed)")
        #expect(removed.ids == added.ids, "the id given is the id taken back")
    }

    /// A forged RTM_NEWNSID from another socket of the namespace (a process, not the kernel)
    /// is passed over by the walker.
    @Test func anEventFromAnotherProcessIsNotCounted() throws {
        let home = try PrivateNetworkNamespace()
        try home.run {
            let monitor = try NsidMonitor(syscalls: .live)
            var own = sockaddr_nl(), length = socklen_t(MemoryLayout<sockaddr_nl>.size)
            try #require(withUnsafeMutablePointer(to: &own) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(monitor.fd, $0, &length) }
            } == 0)
            let forger = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_ROUTE)
            try #require(forger >= 0)
            defer { close(forger) }
            // struct rtgenmsg, padded, then NETNSA_NSID = 5.
            let payload: [UInt8] = [UInt8(AF_UNSPEC), 0, 0, 0, 8, 0, UInt8(NETNSA_NSID), 0, 5, 0, 0, 0]
            let event = NetlinkMessage.bytes(type: UInt16(RTM_NEWNSID), flags: 0, sequence: 0, payload: payload)
            var target = sockaddr_nl()
            target.nl_family = sa_family_t(AF_NETLINK)
            target.nl_pid = own.nl_pid
            let sent = event.withUnsafeBytes { bytes in
                withUnsafePointer(to: &target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(forger, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                    }
                }
            }
            try #require(sent == event.count, "errno \(errno)")
            var entry = pollfd(fd: monitor.fd, events: Int16(POLLIN), revents: 0)
            #expect(poll(&entry, 1, 0) == 1, "the forged event is queued")
            #expect(monitor.drain() == NsidMonitor.Seen(), "only the kernel's events count")
        }
    }
}
