import CLibbpf
import KeepaliveModel

/// The sysctl program's ring buffer, read through libbpf's consumer (the map mmapped, an
/// epoll descriptor that is readable when records wait).
final class SysctlEventRing {
    /// Where libbpf's callback puts the records of one ``drain()``.
    private final class Inbox {
        var writes: [SysctlWrite] = []
    }

    private var ring: OpaquePointer?
    private let inbox = Inbox()
    /// The epoll descriptor (owned by the ring).
    let readable: Int32

    /// A consumer of the ring buffer map `events`.
    init(_ events: BPFMap) throws(BPFError) {
        let context = Unmanaged.passUnretained(inbox).toOpaque()
        let ring = try Libbpf.pointer("reading the ring buffer \(events.name)") {
            kt_ring_buffer__new(events.fd, { context, data, size in
                guard let context, let data, size >= MemoryLayout<kt_sysctl_event>.size else { return 0 }
                let inbox = Unmanaged<Inbox>.fromOpaque(context).takeUnretainedValue()
                if let write = SysctlWrite(data.loadUnaligned(as: kt_sysctl_event.self)) { inbox.writes.append(write) }
                return 0
            }, context)
        }
        self.ring = ring
        readable = kt_ring_buffer__epoll_fd(ring)
    }

    /// Stops reading.
    deinit { close() }

    /// Stops reading (the ring buffer map itself stays, pinned).
    func close() {
        if let ring { kt_ring_buffer__free(ring) }
        ring = nil
    }

    /// Every record waiting, oldest first.
    func drain() throws(BPFError) -> [SysctlWrite] {
        guard let ring else { return [] }
        try Libbpf.call("reading the sysctl events") { min(kt_ring_buffer__consume(ring), 0) }
        defer { inbox.writes.removeAll(keepingCapacity: true) }
        return inbox.writes
    }
}

/// A ``SysctlWrite`` decoded from the program's record.
extension SysctlWrite {
    /// The write a ring-buffer record describes; `nil` for a key index no program sends.
    init?(_ event: kt_sysctl_event) {
        guard Int(event.key) < Tunable.allCases.count else { return nil }
        self.init(key: Tunable.allCases[Int(event.key)], pid: Int32(bitPattern: event.pid), uid: event.uid,
                  cgroup: CgroupID(event.cgroup_id), command: Self.text(event.comm),
                  oldValue: Self.text(event.old_value), newValue: Self.text(event.new_value),
                  refused: event.verdict == KT_SYSCTL_REFUSED)
    }

    /// A NUL-terminated C character array as text.
    private static func text<Tuple>(_ characters: Tuple) -> String {
        withUnsafeBytes(of: characters) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
