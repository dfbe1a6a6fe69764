import Foundation

/// A cgroup2 hierarchy and a bpf file system mounted by the test itself, in a private mount
/// namespace held by a child process (Tests/Fixtures/bpf/sandbox.py), with one sub-cgroup
/// of the test's own: the only place BPF tests create cgroups, put processes and attach
/// programs. The host's tree is never touched at its root.
///
/// The test reaches both mounts through `/proc/HOLDER/root/...`. Releasing the sandbox (or
/// the test process dying) ends the holder: it kills what is left in the sub-cgroup,
/// removes every cgroup under it, and its mount namespace takes the mounts and every pin in
/// the bpffs with it.
public final class CgroupSandbox: @unchecked Sendable {
    /// Why a sandbox cannot be made here, or `nil` if it can.
    public static let unavailableReason: String? = {
        if geteuid() != 0 { return "mounting cgroup2 and bpffs in a private mount namespace needs root" }
        for tool in ["unshare", "python3", "mount"] where ChildProcessLookup.path(of: tool) == nil {
            return "\(tool) is not installed"
        }
        return nil
    }()

    private let holder: LineChild
    private let directory: TemporaryDirectory
    /// The test's own sub-cgroup, e.g. `/proc/123/root/tmp/kt-bpf-x/cgroup/kt-bpf-123-x`.
    public let root: String
    /// The test's own bpf file system.
    public let bpffs: String
    /// What the kernel puts in every new bpffs (CONFIG_BPF_PRELOAD's maps.debug, progs.debug).
    private let preloaded: Set<String>

    /// Mounts both and creates the sub-cgroup.
    public init() throws {
        directory = try TemporaryDirectory("kt-bpf")
        try directory.makeDirectory("cgroup")
        try directory.makeDirectory("bpf")
        let name = "kt-bpf-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        holder = try LineChild(["unshare", "-m", "--propagation", "private", "python3",
                                FileList.packageRoot + "/Tests/Fixtures/bpf/sandbox.py", directory.path, name],
                               label: "sandbox.py")
        let ready = try holder.line()
        guard ready.hasPrefix("ready ") else { throw LineChild.Failed(description: "sandbox.py said: \(ready)") }
        let inside = "/proc/\(holder.pid)/root\(directory.path)"
        root = "\(inside)/cgroup/\(name)"
        bpffs = "\(inside)/bpf"
        preloaded = Set(FileManager.default.enumerator(atPath: bpffs)?.allObjects as? [String] ?? [])
    }

    /// Ends the holder: see ``close()``.
    deinit { close() }

    /// Ends the holder (see the type's description) and removes the temporary directory.
    public func close() {
        holder.finish()
    }

    /// Creates the cgroup `relative` under the test's sub-cgroup (parents first); its path.
    @discardableResult
    public func makeCgroup(_ relative: String) throws -> String {
        let path = "\(root)/\(relative)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Moves process `pid` into the cgroup at `path` (writes it to `cgroup.procs`). Sockets
    /// it creates from now on belong to that cgroup; those it has keep theirs.
    public func move(_ pid: Int32, to path: String) throws {
        try TemporaryDirectory.replaceContents(of: "\(path)/cgroup.procs", with: Array("\(pid)\n".utf8))
    }

    /// The names in the test's bpffs, recursively, relative to it, without what the kernel
    /// put there at mount (empty: nothing pinned).
    public func pinnedFiles() -> [String] {
        (FileManager.default.enumerator(atPath: bpffs)?.allObjects as? [String] ?? []).filter { !preloaded.contains($0) }.sorted()
    }
}
