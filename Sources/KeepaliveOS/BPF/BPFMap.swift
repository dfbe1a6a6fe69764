import CLibbpf
#if canImport(Glibc)
import Glibc
#endif

/// One BPF map, by descriptor: typed element access for fixed-layout keys and values.
///
/// The descriptor is borrowed from the ``BPFObject`` that loaded (or reused) the map, and
/// lives as long as it does. Each call is one bpf(2) system call through libbpf.
struct BPFMap {
    /// The map's name in the program, e.g. `workloads`.
    let name: String
    /// The map's descriptor.
    let fd: Int32

    /// Writes `value` at `key` (BPF_ANY: created or replaced, atomically for readers).
    func update<Key: BitwiseCopyable, Value: BitwiseCopyable>(_ key: Key, _ value: Value) throws(BPFError) {
        var key = key, value = value
        try Libbpf.call("writing an entry of the map \(name)") { kt_bpf_map_update_elem(fd, &key, &value, 0) }
    }

    /// The value at `key`, or `nil` if there is none.
    func lookup<Key: BitwiseCopyable, Value: BitwiseCopyable>(_ key: Key, as type: Value.Type) -> Value? {
        var key = key
        return withUnsafeTemporaryAllocation(of: Value.self, capacity: 1) { buffer -> Value? in
            guard kt_bpf_map_lookup_elem(fd, &key, buffer.baseAddress!) == 0 else { return nil }
            return buffer[0]
        }
    }

    /// A per-CPU map's values at `key`, one for each possible CPU; empty if there is none.
    /// The kernel rounds each CPU's value up to 8 bytes.
    func lookupPerCPU<Key: BitwiseCopyable, Value: BitwiseCopyable>(_ key: Key, as type: Value.Type) -> [Value] {
        var key = key
        let cpus = max(Int(kt_libbpf_num_possible_cpus()), 1)
        let stride = (MemoryLayout<Value>.size + 7) & ~7
        var bytes = [UInt8](repeating: 0, count: stride * cpus)
        let found = bytes.withUnsafeMutableBytes { kt_bpf_map_lookup_elem(fd, &key, $0.baseAddress!) == 0 }
        guard found else { return [] }
        return bytes.withUnsafeBytes { raw in
            (0..<cpus).map { raw.loadUnaligned(fromByteOffset: $0 * stride, as: Value.self) }
        }
    }

    /// Deletes the entry at `key`; one that is already gone is not an error.
    func delete<Key: BitwiseCopyable>(_ key: Key) throws(BPFError) {
        var key = key
        kt_libbpf_log_clear()
        let result = kt_bpf_map_delete_elem(fd, &key)
        if result < 0 && result != -ENOENT { throw BPFError("deleting an entry of the map \(name)", errno: -result) }
    }

    /// Every key, in the map's order (a hash map's keys are read while it may change: a key
    /// deleted meanwhile can end the walk early, one added may be missed).
    func keys<Key: BitwiseCopyable>(_ type: Key.Type) -> [Key] {
        var keys: [Key] = []
        withUnsafeTemporaryAllocation(of: Key.self, capacity: 2) { buffer in
            let next = buffer.baseAddress! + 1
            var previous: UnsafeMutablePointer<Key>? = nil
            while kt_bpf_map_get_next_key(fd, previous.map { UnsafeRawPointer($0) }, next) == 0 {
                keys.append(next.pointee)
                buffer[0] = next.pointee
                previous = buffer.baseAddress!
            }
        }
        return keys
    }
}
