#if canImport(Glibc)
import Glibc
#endif
import KeepaliveOS

/// The event sources that hint at a new or ended network namespace, opened only while
/// `[namespaces]` manages any (so a daemon without it is not woken by mounts), through the
/// seam:
/// - `/proc/self/mountinfo`, whose poll(2) reports POLLPRI on every mount change, nsfs bind
///   mounts (`ip netns add`, runtimes' pins) among them;
/// - an rtnetlink socket in `RTNLGRP_NSID` (``NsidMonitor``). The default unit's
///   `RestrictAddressFamilies=` leaves AF_NETLINK out; without it, the other hints and the
///   periodic scan still find every namespace.
final class NamespaceHints {
    let mountinfo: Int32
    let nsid: NsidMonitor?
    private let syscalls: Syscalls

    /// Opens both; `nil` if mountinfo cannot be opened (the netlink socket is optional).
    init?(syscalls: Syscalls) {
        guard case .success(let fd) = syscalls.open("/proc/self/mountinfo", O_RDONLY) else { return nil }
        mountinfo = fd
        self.syscalls = syscalls
        nsid = try? NsidMonitor(syscalls: syscalls)
    }

    deinit { syscalls.close(mountinfo) }

    /// The descriptors to poll for readability.
    var readable: [Int32] { nsid.map { [$0.fd] } ?? [] }
}
