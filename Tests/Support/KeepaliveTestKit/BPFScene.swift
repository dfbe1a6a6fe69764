import Foundation
import KeepaliveModel
import KeepaliveOS
import Testing

/// When the BPF tests run: always on CI (CI=true, as root), where BPF being unavailable is a
/// failure, not a skip; elsewhere they skip, with the reason, without root or without BPF.
public enum BPFTestGate {
    /// Whether this is CI.
    public static let onCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Why the BPF tests skip here; `nil` when they run (always on CI).
    public static let skipReason: String? = {
        if onCI { return nil }
        if let reason = CgroupSandbox.unavailableReason { return reason }
        do {
            let sandbox = try CgroupSandbox()
            defer { sandbox.close() }
            let place = BPFPlace(cgroup: sandbox.root, pins: PinLayout(directory: sandbox.bpffs + "/probe"))
            for hook in PinLayout.Hook.allCases {
                if let reason = BPFHooks.probe(hook, at: place) { return "BPF is unavailable here: \(reason)" }
            }
            return nil
        } catch {
            return "no cgroup2 and bpffs sandbox here: \(error)"
        }
    }()

    /// The trait that runs a suite only where ``skipReason`` is `nil`.
    public static var trait: ConditionTrait { .enabled(if: skipReason == nil, Comment(rawValue: skipReason ?? "")) }
}

/// A test's sandbox with the cgroups the BPF tests use:
///
///     ROOT/hooked               the attach point (a "cgroup2 root" for the hooks)
///     ROOT/hooked/web           a workload in the map
///     ROOT/hooked/web/worker    a cgroup under that workload (a unit's sub-cgroup)
///     ROOT/hooked/other         under the attach point, named by no map entry
///     ROOT/outside              not under the attach point at all
public struct BPFScene {
    public let sandbox: CgroupSandbox
    public let hooked: String, web: String, worker: String, other: String, outside: String
    /// The pin directory, inside the sandbox's bpffs.
    public let place: BPFPlace

    /// Makes the sandbox and the cgroups; the pins go under its bpffs.
    public init() throws {
        sandbox = try CgroupSandbox()
        hooked = try sandbox.makeCgroup("hooked")
        web = try sandbox.makeCgroup("hooked/web")
        worker = try sandbox.makeCgroup("hooked/web/worker")
        other = try sandbox.makeCgroup("hooked/other")
        outside = try sandbox.makeCgroup("outside")
        place = BPFPlace(cgroup: hooked, pins: PinLayout(directory: sandbox.bpffs + "/keepalived-tune"))
    }

    /// A cgroup directory's id.
    public func id(_ path: String) throws -> CgroupID {
        try CgroupID(#require(UInt64(exactly: FileStatusProbe.inode(path))))
    }

    /// The programs `bpftool cgroup show` lists as attached to a cgroup directory, one line each.
    public func attached(_ path: String) throws -> [String] {
        let result = try ChildProcess.run(["bpftool", "cgroup", "show", path])
        try #require(result.status == 0, "bpftool cgroup show: \(result)")
        return result.stdout.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("ID") && !$0.isEmpty }
    }
}

/// stat(2) for tests: a cgroup2 directory's inode number is its cgroup id (64-bit kernels).
public enum FileStatusProbe {
    /// The inode number of `path`.
    public static func inode(_ path: String) throws -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return UInt64(info.st_ino)
    }
}

