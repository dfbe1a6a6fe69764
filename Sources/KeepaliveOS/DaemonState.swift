import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// What a running daemon enforces, published in its runtime directory (`RUNTIME/daemon`)
/// so that a command can tell the admin: `apply` says when the daemon will put its own
/// profile back. Written whole (temp file and rename) at start and after each reload,
/// removed at stop by the daemon that published it (another daemon sharing the directory
/// may have published its own since).
public struct DaemonState: Sendable, Hashable {
    public let pid: Int32
    /// The network namespace it enforces (its inode).
    public let netns: UInt64
    public let profile: String
    public let values: KeepaliveValues

    public init(pid: Int32, netns: UInt64, profile: String, values: KeepaliveValues) {
        self.pid = pid
        self.netns = netns
        self.profile = profile
        self.values = values
    }

    static func path(in directory: String) -> String { "\(directory)/daemon" }

    /// Publishes this state in `directory` (created if missing), under the apply lock (see
    /// ``withdraw(pid:netns:from:syscalls:)``); failures are ignored: the state only helps
    /// commands explain themselves.
    public func publish(in directory: String, syscalls: Syscalls) {
        _ = syscalls.makeDirectory(directory, 0o755)
        let path = DaemonState.path(in: directory)
        _ = ApplyLock(directory: directory, syscalls: syscalls).withLock {
            WholeFile.replace(path, temporary: path + ".new", with: "pid=\(pid) netns=\(netns) profile=\(profile) values=\(values.compact)\n",
                              mode: 0o644, syscalls: syscalls)
        }
    }

    /// Removes the state published in `directory` at stop, if it is this daemon's (`pid`,
    /// enforcing `netns`): another daemon that shares the directory may have published its
    /// own since, which stays. Checked and removed under the apply lock, so that no publish
    /// comes between.
    public static func withdraw(pid: Int32, netns: UInt64, from directory: String, syscalls: Syscalls) {
        _ = ApplyLock(directory: directory, syscalls: syscalls).withLock {
            guard let published = published(in: directory, syscalls: syscalls), published.pid == pid, published.netns == netns else { return }
            _ = syscalls.unlink(path(in: directory))
        }
    }

    /// The state published in `directory`, if a daemon that is still running left it.
    public static func running(in directory: String, syscalls: Syscalls) -> DaemonState? {
        guard let state = published(in: directory, syscalls: syscalls), kill(state.pid, 0) == 0,
              FileReader.smallFile("/proc/\(state.pid)/comm", syscalls: syscalls)?.hasPrefix("keepalived-tun") == true else { return nil }
        return state
    }

    /// The state published in `directory`, whether or not its daemon still runs.
    static func published(in directory: String, syscalls: Syscalls) -> DaemonState? {
        guard let text = FileReader.smallFile(path(in: directory), syscalls: syscalls),
              let fields = KeepaliveValues.recordFields(text), let pid = fields["pid"].flatMap({ Int32($0) }),
              let netns = fields["netns"].flatMap({ UInt64($0) }), let profile = fields["profile"],
              let values = fields["values"].flatMap(KeepaliveValues.init(compact:)) else { return nil }
        return DaemonState(pid: pid, netns: netns, profile: String(profile), values: values)
    }

    /// The inode of this process's network namespace (`/proc/self/ns/net`), or 0.
    public static func ownNetworkNamespace(syscalls: Syscalls) -> UInt64 {
        guard case .success(let status) = syscalls.pathStatus("/proc/self/ns/net") else { return 0 }
        return status.inode
    }
}
