import CLibbpf
#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel

/// One kernel program as a hook: what the shared loader needs to know about it.
struct HookProgram {
    /// Its subdirectory of the pin layout.
    let hook: PinLayout.Hook
    /// The ELF object's bytes (``BPFObjects``).
    let image: [UInt8]
    /// The object's name, for messages.
    let objectName: String
    /// The program's function name.
    let program: String
    /// The maps pinned beside the link (every map of the object but its constants).
    let maps: [String]
    /// The cgroup attach type (enum bpf_attach_type): what a pinned link must be to adopt it.
    let attachType: UInt32
    /// Map sizes set before loading (a ring buffer's bytes), by map name.
    var sizes: [String: UInt32] = [:]
}

/// How a hook came to be in force, for the journal's `sockets-hooked` entry.
public enum HookAttachment: Sendable, Hashable, CustomStringConvertible {
    /// Nothing of ours was attached: the program was attached now, and pinned.
    case attached
    /// A pinned link of ours already ran this very program: kept as it was.
    case adopted
    /// A pinned link of ours ran another program (an older version): the link now runs this
    /// one, swapped in place (no moment without a program). The tags, before and after.
    case updated(from: String, to: String)

    /// `attached`, `adopted` or `updated (...)`, for the journal.
    public var description: String {
        switch self {
        case .attached: "attached"
        case .adopted: "adopted"
        case .updated(let old, let new): "updated (program \(old) replaced by \(new))"
        }
    }
}

/// One hook in force: its loaded object (the maps' descriptors) and its cgroup link, pinned
/// under the place's pin directory. The one loader both hooks share.
///
/// Releasing it without ``detach()`` is what a crash does: the descriptors close, and the
/// pinned link keeps the program attached, with its pinned maps.
final class PinnedHook {
    let place: BPFPlace
    let spec: HookProgram
    /// What ``attach(_:at:prepare:)`` did.
    let attachment: HookAttachment
    /// Maps that were pinned by a version with another layout, and were replaced.
    let replacedMaps: [String]
    /// The link's kernel id (`bpftool link`): the same after an adoption.
    let linkID: UInt32
    private let object: BPFObject
    private var link: OpaquePointer?

    /// A hook in force, as ``attach(_:at:prepare:)`` made it.
    private init(place: BPFPlace, spec: HookProgram, object: BPFObject, link: OpaquePointer, linkID: UInt32,
                 attachment: HookAttachment, replacedMaps: [String]) {
        self.place = place
        self.spec = spec
        self.object = object
        self.link = link
        self.linkID = linkID
        self.attachment = attachment
        self.replacedMaps = replacedMaps
    }

    /// Closes the descriptors only: a pinned link stays attached (what a crash leaves).
    deinit {
        if let link { kt_bpf_link__close(link) }
    }

    /// A loaded map of the hook.
    func map(_ name: String) throws(BPFError) -> BPFMap { try object.map(name) }

    /// Puts the hook in force at `place`: adopts what is pinned there, or attaches and pins.
    ///
    /// Pinned maps of the same layout are reused, entries and all; `prepare` then runs on the
    /// loaded object before the program can see a new map, so a new map is never seen empty.
    /// A pinned link attached to this cgroup is adopted, and switched to this program if it
    /// runs another; never is a second link attached. A stale pinned link (its cgroup gone,
    /// or another cgroup configured) is replaced: the new link is attached first.
    static func attach(_ spec: HookProgram, at place: BPFPlace,
                       prepare: (BPFObject) throws(BPFError) -> Void) throws(BPFError) -> PinnedHook {
        if let reason = Libbpf.load() { throw BPFError("loading libbpf", unavailable: reason) }
        let cgroupID = try place.cgroupID()
        try place.checkPinFilesystem()
        try place.makePinDirectories(for: spec.hook)
        do throws(BPFError) {
            return try attach(spec, at: place, cgroupID: cgroupID, prepare: prepare)
        } catch {
            place.removePinDirectories(for: spec.hook)   // those it made, if they stayed empty
            throw error
        }
    }

    /// ``attach(_:at:prepare:)`` once the place is checked and its directories exist.
    private static func attach(_ spec: HookProgram, at place: BPFPlace, cgroupID: CgroupID,
                               prepare: (BPFObject) throws(BPFError) -> Void) throws(BPFError) -> PinnedHook {
        let object = try BPFObject(spec.image, name: spec.objectName)
        for (map, size) in spec.sizes { try object.setMaxEntries(map, size) }
        var fresh: [String] = [], replaced: [String] = []
        for map in spec.maps {
            switch try object.reusePinned(map, at: place.pins.map(map, for: spec.hook)) {
            case .reused: break
            case .absent: fresh.append(map)
            case .incompatible: fresh.append(map); replaced.append(map)
            }
        }
        try object.load()
        let program = try object.program(spec.program)
        let identity = try object.identity(of: program)
        try prepare(object)

        let linkPath = place.pins.link(for: spec.hook)
        let pinned = try openPinnedLink(linkPath)
        let link: OpaquePointer, attachment: HookAttachment
        if let pinned, let info = try? LinkInfo(pinned), info.cgroupID == cgroupID.rawValue, info.attachType == spec.attachType {
            link = pinned
            do throws(BPFError) {
                let running = try ProgramIdentity(id: info.programID)
                if running.tag == identity.tag && fresh.isEmpty {
                    attachment = .adopted
                } else {
                    try Libbpf.call("switching the pinned link \(linkPath) to the new \(spec.program)") {
                        kt_bpf_link__update_program(link, program)
                    }
                    attachment = .updated(from: running.tag, to: identity.tag)
                }
            } catch {
                kt_bpf_link__close(pinned)   // this process's descriptor only: the pin stays
                throw error
            }
        } else {
            let cgroup = try place.openCgroup()
            defer { close(cgroup) }
            link = try Libbpf.pointer("attaching \(spec.program) to \(place.cgroup)") {
                kt_bpf_program__attach_cgroup(program, cgroup)
            }
            if let pinned {   // ours, but attached elsewhere or no longer at all
                _ = kt_bpf_link_detach(kt_bpf_link__fd(pinned))
                kt_bpf_link__close(pinned)
            }
            do throws(BPFError) {
                try BPFPlace.unpin(linkPath)
                try Libbpf.call("pinning the link at \(linkPath)") { kt_bpf_obj_pin(kt_bpf_link__fd(link), linkPath) }
            } catch {
                kt_bpf_link__close(link)   // not pinned: closing it detaches it
                throw error
            }
            attachment = .attached
        }
        let hook = PinnedHook(place: place, spec: spec, object: object, link: link,
                              linkID: (try? LinkInfo(link).linkID) ?? 0, attachment: attachment, replacedMaps: replaced)
        for map in fresh {
            let path = place.pins.map(map, for: spec.hook)
            let fd = try object.map(map).fd
            try BPFPlace.unpin(path)
            try Libbpf.call("pinning the map \(map) at \(path)") { kt_bpf_obj_pin(fd, path) }
        }
        return hook
    }

    /// Opens the link pinned at `path`; `nil` if nothing is pinned there.
    private static func openPinnedLink(_ path: String) throws(BPFError) -> OpaquePointer? {
        guard BPFPlace.exists(path) else { return nil }
        return try Libbpf.pointer("opening the pinned link \(path)") { kt_bpf_link__open(path) }
    }

    /// Detaches the program and removes exactly what the hook pins: its link, its maps, its
    /// subdirectory, and the pin directory if nothing else is left in it.
    func detach() throws(BPFError) {
        if let link {
            let result = kt_bpf_link_detach(kt_bpf_link__fd(link))
            if result < 0 && -result != ENOLINK && -result != EINVAL {
                throw BPFError("detaching \(spec.program) from \(place.cgroup)", errno: -result)
            }
            kt_bpf_link__close(link)
            self.link = nil
        }
        try BPFPlace.unpin(place.pins.link(for: spec.hook))
        for map in spec.maps { try BPFPlace.unpin(place.pins.map(map, for: spec.hook)) }
        object.close()
        place.removePinDirectories(for: spec.hook)
    }
}

/// What the kernel says about a cgroup link.
struct LinkInfo {
    let linkID: UInt32
    let programID: UInt32
    /// The cgroup it is attached to; 0 once it is not attached (its cgroup went away, or it
    /// was detached).
    let cgroupID: UInt64
    let attachType: UInt32

    /// Reads the info of `link`.
    init(_ link: OpaquePointer) throws(BPFError) {
        var linkID: UInt32 = 0, programID: UInt32 = 0, cgroupID: UInt64 = 0, attachType: UInt32 = 0
        try Libbpf.call("reading a link's info") {
            kt_bpf_link_info(kt_bpf_link__fd(link), &linkID, &programID, &cgroupID, &attachType)
        }
        self.linkID = linkID
        self.programID = programID
        self.cgroupID = cgroupID
        self.attachType = attachType
    }
}
