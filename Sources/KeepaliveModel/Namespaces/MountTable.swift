/// The network namespaces bind-mounted somewhere, read from `/proc/self/mountinfo`: an nsfs
/// mount whose root is `net:[INODE]` pins that namespace at its mount point
/// (`/run/netns/NAME`, `/run/docker/netns/ID`, a CRI-O pin).
public enum MountTable {
    /// One pinned namespace.
    public struct Pin: Sendable, Hashable {
        public let inode: UInt64
        /// The mount point, with `/var/run` spelt `/run` and mountinfo's octal escapes undone.
        public let path: String
    }

    /// Every nsfs network-namespace mount in a mountinfo text.
    public static func networkPins(_ mountinfo: String) -> [Pin] {
        mountinfo.split(separator: "\n").compactMap(networkPin)
    }

    /// The pin one mountinfo line (without its newline) makes, if it is an nsfs
    /// network-namespace mount: the table is read line by line, however long it is.
    public static func networkPin(_ line: Substring) -> Pin? {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPER
        guard line.contains(" - nsfs ") else { return nil }
        let fields = line.split(separator: " ", maxSplits: 5)
        guard fields.count >= 5, fields[3].hasPrefix("net:["), fields[3].hasSuffix("]"),
              let inode = UInt64(fields[3].dropFirst(5).dropLast()) else { return nil }
        return Pin(inode: inode, path: canonical(fields[4].decodingEscapes(digits: 3, radix: 8)))
    }

    /// `/var/run/...` as `/run/...`: on every system here `/var/run` links to `/run`, and the
    /// runtimes write either spelling.
    public static func canonical(_ path: String) -> String {
        path.hasPrefix("/var/run/") ? String(path.dropFirst(4)) : path
    }

    /// The name under `/run/netns`, for a pin there.
    public static func netnsName(_ path: String) -> String? {
        let prefix = "/run/netns/"
        guard path.hasPrefix(prefix) else { return nil }
        let name = path.dropFirst(prefix.count)
        return name.isEmpty || name.contains("/") ? nil : String(name)
    }

    /// Whether a pin's path is one a container runtime makes before it writes the bundle
    /// that names the container (podman's `netns-UUID`, CNI's `cni-…`, docker's sandboxes):
    /// its identity is worth waiting a moment for.
    public static func isRuntimePin(_ path: String) -> Bool {
        if path.hasPrefix("/run/docker/netns/") { return true }
        guard let name = netnsName(path) else { return false }
        return name.hasPrefix("netns-") || name.hasPrefix("cni-")
    }
}
