import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// rtnetlink's `RTNLGRP_NSID` group: `RTM_NEWNSID` when a namespace gets an id in ours (a
/// veth, macvlan or tunnel with its peer there, as docker, CNI and podman's bridges make),
/// `RTM_DELNSID` when it loses it (it died). No event exists for the creation of a
/// namespace as such; this is one of the hints that make the daemon look.
public final class NsidMonitor {
    /// The descriptor to poll for readability.
    public let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 8192)

    static let group: Int32 = 28            // RTNLGRP_NSID
    static let newNSID: UInt16 = 88         // RTM_NEWNSID
    static let deleteNSID: UInt16 = 89      // RTM_DELNSID
    static let solNetlink: Int32 = 270      // SOL_NETLINK
    static let addMembership: Int32 = 1     // NETLINK_ADD_MEMBERSHIP

    /// What a drain saw.
    public struct Seen: Sendable, Hashable {
        public var added = 0
        public var removed = 0
        public var any: Bool { added + removed > 0 }
    }

    /// Opens a non-blocking rtnetlink socket joined to `RTNLGRP_NSID`.
    public init() throws(Errno) {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)   // NETLINK_ROUTE
        guard fd >= 0 else { throw Errno.current }
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size)) }
        }
        var group = NsidMonitor.group
        guard bound == 0,
              setsockopt(fd, NsidMonitor.solNetlink, NsidMonitor.addMembership, &group, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            let error = Errno.current
            close(fd)
            throw error
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Reads every queued message; how many namespaces got and lost an id. An overflowed
    /// queue (ENOBUFS) counts as a change: something was missed, so look again.
    public func drain() -> Seen {
        var seen = Seen()
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count < 0 {
                if errno == ENOBUFS { seen.added += 1; continue }
                return seen
            }
            if count == 0 { return seen }
            buffer.withUnsafeBytes { raw in
                var offset = 0
                while offset + 16 <= count {
                    let length = Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                    let type = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
                    if type == NsidMonitor.newNSID { seen.added += 1 }
                    if type == NsidMonitor.deleteNSID { seen.removed += 1 }
                    guard length >= 16 else { break }
                    offset += (length + 3) & ~3
                }
            }
        }
    }
}
