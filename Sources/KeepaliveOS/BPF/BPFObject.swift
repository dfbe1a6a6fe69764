import CLibbpf
#if canImport(Glibc)
import Glibc
#endif

/// One kernel program's ELF object, opened from its embedded bytes and loaded by libbpf.
///
/// It owns the program's and the maps' descriptors (closed by ``close()`` or deinit). Before
/// ``load()``, a map can be pointed at a pinned map of the same definition (``reusePinned``):
/// the loaded program then uses the pinned map itself, entries and all.
final class BPFObject {
    private var object: OpaquePointer?
    /// The object's name, for messages (`keepalive`).
    let name: String

    /// Opens `bytes` (no system call yet: libbpf parses the ELF and its BTF).
    init(_ bytes: [UInt8], name: String) throws(BPFError) {
        self.name = name
        let opened = bytes.withUnsafeBytes { raw in kt_bpf_object__open_mem(raw.baseAddress, raw.count, name) }
        guard let opened else { throw BPFError("opening the BPF object \(name)", errno: errno) }
        object = opened
    }

    /// Closes what the object still holds.
    deinit { close() }

    /// Closes every descriptor the object holds (unpinned maps and unattached programs go away).
    func close() {
        if let object { kt_bpf_object__close(object) }
        object = nil
    }

    /// The map `map`, before or after loading.
    private func handle(_ map: String) throws(BPFError) -> OpaquePointer {
        try Libbpf.pointer("finding the map \(map) in \(name)") { kt_bpf_object__find_map_by_name(object, map) }
    }

    /// Sets a map's number of entries (a ring buffer's size in bytes), before loading.
    func setMaxEntries(_ map: String, _ entries: UInt32) throws(BPFError) {
        let handle = try handle(map)
        try Libbpf.call("sizing the map \(map) of \(name)") { kt_bpf_map__set_max_entries(handle, entries) }
    }

    /// Makes the object use the map pinned at `path` for `map`, if the pinned map has exactly
    /// this object's definition (type, key and value size, entries, flags). Before loading.
    ///
    /// - Returns: `.reused`, `.absent` (nothing pinned there) or `.incompatible` (pinned by a
    ///   version with another layout: the object keeps its own new map).
    func reusePinned(_ map: String, at path: String) throws(BPFError) -> PinnedMap {
        let handle = try handle(map)
        kt_libbpf_log_clear()
        let fd = kt_bpf_obj_get(path)
        if fd < 0 {
            if -fd == ENOENT { return .absent }
            throw BPFError("opening the pinned map \(path)", errno: -fd)
        }
        defer { Glibc.close(fd) }   // libbpf keeps a duplicate
        var want = MapDefinition(), have = MapDefinition()
        kt_bpf_map__definition(handle, &want.type, &want.keySize, &want.valueSize, &want.maxEntries, &want.flags)
        try Libbpf.call("reading the pinned map \(path)") {
            kt_bpf_map_info(fd, &have.type, &have.keySize, &have.valueSize, &have.maxEntries, &have.flags)
        }
        guard want == have else { return .incompatible }
        try Libbpf.call("reusing the pinned map \(path)") { kt_bpf_map__reuse_fd(handle, fd) }
        return .reused
    }

    /// What ``reusePinned(_:at:)`` found.
    enum PinnedMap: Equatable { case reused, absent, incompatible }

    /// A map's definition, as the object declares it or the kernel reports it.
    private struct MapDefinition: Equatable {
        var type: UInt32 = 0, keySize: UInt32 = 0, valueSize: UInt32 = 0, maxEntries: UInt32 = 0, flags: UInt32 = 0
    }

    /// Loads the programs and creates the maps not reused (bpf(BPF_PROG_LOAD), the verifier,
    /// CO-RE relocation against /sys/kernel/btf/vmlinux). A failure carries the verifier's log.
    func load() throws(BPFError) {
        try Libbpf.call("loading the BPF object \(name)") { kt_bpf_object__load(object) }
    }

    /// A loaded map, by name.
    func map(_ map: String) throws(BPFError) -> BPFMap {
        let handle = try handle(map)
        let fd = try Libbpf.descriptor("finding the map \(map) of \(name)") { kt_bpf_map__fd(handle) }
        return BPFMap(name: map, fd: fd)
    }

    /// A program, by its function name.
    func program(_ program: String) throws(BPFError) -> OpaquePointer {
        try Libbpf.pointer("finding the program \(program) in \(name)") {
            kt_bpf_object__find_program_by_name(object, program)
        }
    }

    /// A loaded program's id and tag (the kernel's hash of its instructions).
    func identity(of program: OpaquePointer) throws(BPFError) -> ProgramIdentity {
        let fd = try Libbpf.descriptor("finding the program of \(name)") { kt_bpf_program__fd(program) }
        return try ProgramIdentity(fd: fd)
    }
}

/// A loaded program's id and tag: two loads of the same instructions have the same tag.
struct ProgramIdentity: Equatable {
    let id: UInt32
    /// The tag as `bpftool prog` prints it, 16 hex digits.
    let tag: String

    /// Reads the identity of the program behind `fd`.
    init(fd: Int32) throws(BPFError) {
        var id: UInt32 = 0
        var tag = [UInt8](repeating: 0, count: 8)
        try Libbpf.call("reading a program's identity") { kt_bpf_program_info(fd, &id, &tag) }
        self.id = id
        self.tag = tag.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// Reads the identity of the program with kernel id `id`.
    init(id: UInt32) throws(BPFError) {
        let fd = try Libbpf.descriptor("opening program \(id)") { kt_bpf_prog_get_fd_by_id(id) }
        defer { Glibc.close(fd) }
        try self.init(fd: fd)
    }
}
