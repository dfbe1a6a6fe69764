/// The kernel programs keepalived-tune loads, as ELF objects embedded in the binary.
///
/// Built from `programs/*.bpf.c` by `scripts/build-bpf` and committed as `Objects/*.bpf.o`
/// (the script's header says why); `Objects/MANIFEST` records the compiler and the SHA-256
/// of every input and output, and BPFObjectsTests proves the committed objects current.
public enum BPFObjects {
    /// `keepalive.bpf.o`: the sock_ops program `keepalive_at_birth`, maps `workloads` and `counters`.
    public static var keepalive: [UInt8] { PackageResources.keepalive_bpf_o }
    /// `sysctl.bpf.o`: the cgroup_sysctl program `keepalive_sysctl_writes`, maps `policy`,
    /// `exempt_cgroups`, `exempt_tgids`, `events` and `counters`.
    public static var sysctl: [UInt8] { PackageResources.sysctl_bpf_o }
    /// What `scripts/build-bpf` wrote into `Objects/MANIFEST` when it built these objects.
    public static var manifest: String { String(decoding: PackageResources.MANIFEST, as: UTF8.self) }
}
