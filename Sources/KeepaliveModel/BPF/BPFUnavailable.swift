/// Why the kernel hooks (BPF) cannot be used on this host: what is missing, in words an admin
/// can act on. The hooks are then switched off, never the daemon: `mode = auto` falls back
/// and says this once; `mode = required` exits with it.
///
/// Tests compare cases; ``description`` is the sentence for people, ``missing`` the word for
/// a journal field.
public enum BPFUnavailable: Error, Sendable, Hashable, CustomStringConvertible {
    /// libbpf could not be loaded (the dlopen(3) error: libbpf1 is not installed, or too old).
    case noLibbpf(String)
    /// The pin directory is not on a bpf file system (the path checked).
    case noBPFFilesystem(path: String)
    /// The cgroup directory is not on a cgroup2 file system (the path checked).
    case noCgroup2(path: String)
    /// The kernel has no BTF (`/sys/kernel/btf/vmlinux`), which the programs read sockets by.
    case noKernelBTF
    /// The kernel refused with EPERM: the capabilities the calling thread lacks.
    case notPermitted(missing: [BPFCapability])
    /// The kernel does not have what the programs need (a helper, a field, the bpf() call):
    /// the kernel's or libbpf's own words.
    case kernelTooOld(String)
    /// Anything else: what was being done, and how it failed.
    case failed(String)

    /// One word naming what is missing, for the `BPF_MISSING=` journal field.
    public var missing: String {
        switch self {
        case .noLibbpf: "libbpf"
        case .noBPFFilesystem: "bpffs"
        case .noCgroup2: "cgroup2"
        case .noKernelBTF: "btf"
        case .notPermitted: "privileges"
        case .kernelTooOld: "kernel"
        case .failed: "error"
        }
    }

    /// What is missing, as a sentence (without what happens instead: the caller says that).
    public var description: String {
        switch self {
        case .noLibbpf(let detail):
            "libbpf cannot be loaded (\(detail)); install libbpf1"
        case .noBPFFilesystem(let path):
            "\(path) is not on a bpf file system; mount one there (mount -t bpf bpf /sys/fs/bpf)"
        case .noCgroup2(let path):
            "\(path) is not a cgroup2 directory; set [bpf] cgroup to the cgroup2 mount"
        case .noKernelBTF:
            "the kernel has no BTF (/sys/kernel/btf/vmlinux; CONFIG_DEBUG_INFO_BTF)"
        case .notPermitted(let missing) where missing.isEmpty:
            "the kernel refused to load the programs (EPERM) although CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON are held (a seccomp filter or an LSM?)"
        case .notPermitted(let missing):
            "loading the programs needs \(missing.map(\.name).joined(separator: ", ")), which this process lacks"
        case .kernelTooOld(let detail):
            "the kernel lacks what the programs need (\(detail)); sock_ops needs Linux 5.15, cgroup_sysctl 6.1"
        case .failed(let detail):
            detail
        }
    }

    /// How a failed program load is explained: by its errno, the log libbpf printed (the
    /// verifier's last words) and the capabilities the loading thread holds.
    public static func classifyLoad(errno: Int32, log: String, effective: UInt64?) -> BPFUnavailable {
        let EPERM: Int32 = 1, EACCES: Int32 = 13, ENOSYS: Int32 = 38, ENOENT: Int32 = 2
        switch errno {
        case EPERM, EACCES:
            return .notPermitted(missing: BPFCapability.missing(from: effective))
        case ENOSYS:
            return .kernelTooOld("the bpf() system call is missing")
        default:
            if log.contains("vmlinux BTF") || (errno == ENOENT && log.contains("BTF")) { return .noKernelBTF }
            if let verdict = kernelVerdict(in: log) {
                // Without CAP_PERFMON the kernel hides helpers and BTF reads ("cannot use
                // helper"): missing privileges come first.
                let missing = BPFCapability.missing(from: effective)
                return missing.isEmpty ? .kernelTooOld(verdict) : .notPermitted(missing: missing)
            }
            return .failed("loading the programs failed (errno \(errno))" + (log.isEmpty ? "" : ": \(lastLine(of: log))"))
        }
    }

    /// The line of a libbpf log that says the kernel lacks something, if one does.
    public static func kernelVerdict(in log: String) -> String? {
        let signs = ["unknown func", "cannot use helper", "invalid func", "failed to resolve CO-RE",
                     "relocation", "unknown opcode", "invalid bpf_context access", "not supported"]
        return log.split(separator: "\n").map { $0.trimmingPrefix(while: { $0 == " " }) }
            .last { line in signs.contains { line.contains($0) } }.map(String.init)
    }

    /// The last non-empty line of a log.
    static func lastLine(of log: String) -> String {
        log.split(separator: "\n").last { !$0.allSatisfy { $0 == " " } }.map(String.init) ?? ""
    }
}

/// The capabilities the hooks need: CAP_BPF to load, CAP_NET_ADMIN to attach to a cgroup,
/// CAP_PERFMON for the BTF reads of sockets (sock_ops) and the writer's command name (sysctl).
public enum BPFCapability: Int, Sendable, Hashable, CaseIterable {
    case netAdmin = 12
    case perfmon = 38
    case bpf = 39

    /// The capability's name, e.g. `CAP_BPF`.
    public var name: String {
        switch self {
        case .netAdmin: "CAP_NET_ADMIN"
        case .perfmon: "CAP_PERFMON"
        case .bpf: "CAP_BPF"
        }
    }

    /// CAP_SYS_ADMIN: the kernel lets it stand in for CAP_BPF and CAP_PERFMON.
    static let sysAdmin = 21

    /// The needed capabilities missing from an effective set (`CapEff:`); all of them when the
    /// set is unknown.
    public static func missing(from effective: UInt64?) -> [BPFCapability] {
        let needed: [BPFCapability] = [.bpf, .netAdmin, .perfmon]
        guard let effective else { return needed }
        /// Whether capability `bit` is in the set.
        func has(_ bit: Int) -> Bool { effective & (1 << UInt64(bit)) != 0 }
        return needed.filter { capability in
            if has(capability.rawValue) { return false }
            return capability == .netAdmin || !has(sysAdmin)
        }
    }
}
