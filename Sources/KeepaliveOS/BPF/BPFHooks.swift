#if canImport(Glibc)
import Glibc
#endif
import KeepaliveBPF
import KeepaliveModel

/// The kernel hooks' one entry point for deciding whether they can run: the fallback story
/// both hooks share. A hook that cannot run is switched off with the reason; the daemon goes on.
///
/// The hooks themselves: ``KeepaliveHook`` (sock_ops, keepalive at connection birth) and
/// ``SysctlHook`` (cgroup_sysctl, every write to a keepalive sysctl), both attached to one
/// cgroup and pinned under one ``PinLayout`` by the one loader, ``PinnedHook``.
public enum BPFHooks {
    /// Whether `hook` can be put in force at `place`; the reason if not.
    ///
    /// Checks in the order an admin fixes them: libbpf (dlopen), kernel BTF, the cgroup2
    /// directory, the bpf file system under the pin directory; then loads the real program
    /// (the verifier runs; nothing is attached or pinned) as the calling thread, whose
    /// capabilities decide, and closes it again.
    public static func probe(_ hook: PinLayout.Hook, at place: BPFPlace, soname: String = Libbpf.soname) -> BPFUnavailable? {
        if let reason = Libbpf.load(soname: soname) { return reason }
        if hook == .keepalive && access("/sys/kernel/btf/vmlinux", R_OK) != 0 { return .noKernelBTF }
        do throws(BPFError) {
            _ = try place.cgroupID()
            try place.checkPinFilesystem()
            let object = try BPFObject(image(of: hook), name: hook.rawValue)
            defer { object.close() }
            try object.load()
            return nil
        } catch {
            return error.unavailable
        }
    }

    /// The embedded object of a hook.
    static func image(of hook: PinLayout.Hook) -> [UInt8] {
        switch hook {
        case .keepalive: BPFObjects.keepalive
        case .sysctl: BPFObjects.sysctl
        }
    }
}
