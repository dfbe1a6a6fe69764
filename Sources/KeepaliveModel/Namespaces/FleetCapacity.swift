/// How many other network namespaces the daemon may manage under its descriptor limit, and
/// which ones, when the rules select more than fit. Pure.
///
/// Each managed namespace holds three descriptors (its keepalive files). The daemon keeps
/// ``headroom`` for everything else (its event sources, the config and profile files a
/// reload opens, the connections audit, the metrics and originals files), so that a full
/// fleet never starves it of a descriptor: the namespaces fit in what is left.
///
/// Who wins a seat, in order:
/// 1. the namespaces managed already keep theirs (first come, first served), but for
/// 2. a namespace a rule selects, which takes the place of the newest `manage = all`
///    fallback when no seat is free: a host's named containers are never crowded out by
///    namespaces no rule names (an unprivileged user's `unshare -Urn sleep`, say);
/// 3. among the new ones of one scan, rule matches before fallbacks, then by inode.
public struct FleetCapacity: Sendable, Hashable {
    /// The descriptors one managed namespace holds.
    public static let descriptorsPerNamespace = 3

    /// The soft RLIMIT_NOFILE in force.
    public let limit: Int

    public init(limit: Int) { self.limit = max(0, limit) }

    /// The descriptors kept for the daemon itself: 64, and a thirty-second of the limit.
    public var headroom: Int { 64 + limit / 32 }

    /// How many namespaces fit.
    public var namespaces: Int { max(0, (limit - headroom) / FleetCapacity.descriptorsPerNamespace) }

    /// Why a namespace is managed: a rule selects it, or `manage = all` takes it in.
    public enum Claim: Sendable, Hashable {
        case rule, fallback
    }

    /// A namespace managed now: its claim, and when it was adopted (higher is newer).
    public struct Seat: Sendable, Hashable {
        public let inode: UInt64
        public let claim: Claim
        public let order: Int
        public init(inode: UInt64, claim: Claim, order: Int) {
            self.inode = inode
            self.claim = claim
            self.order = order
        }
    }

    /// What one scan may adopt.
    public struct Admission: Sendable, Hashable {
        /// The new namespaces to adopt, in order.
        public var admitted: [UInt64] = []
        /// Members that make way for a rule's namespace: released, left as they are.
        public var evicted: [UInt64] = []
        /// Namespaces the rules select that stay unmanaged, for want of a seat.
        public var left: [UInt64] = []

        public init(admitted: [UInt64] = [], evicted: [UInt64] = [], left: [UInt64] = []) {
            self.admitted = admitted
            self.evicted = evicted
            self.left = left
        }
    }

    /// Seats `candidates` (new namespaces the rules select) beside `members`.
    public func admit(_ candidates: [(inode: UInt64, claim: Claim)], members: [Seat]) -> Admission {
        var admission = Admission()
        var free = max(0, namespaces - members.count)
        // The newest fallbacks first: the ones that make way for a rule's namespace.
        var yielding = members.filter { $0.claim == .fallback }.sorted { $0.order > $1.order }.map(\.inode)
        let ordered = candidates.sorted { ($0.claim == .rule ? 0 : 1, $0.inode) < ($1.claim == .rule ? 0 : 1, $1.inode) }
        for candidate in ordered {
            if free > 0 {
                free -= 1
                admission.admitted.append(candidate.inode)
            } else if candidate.claim == .rule, !yielding.isEmpty {
                admission.evicted.append(yielding.removeFirst())
                admission.admitted.append(candidate.inode)
            } else {
                admission.left.append(candidate.inode)
            }
        }
        return admission
    }
}

extension NamespaceRules {
    /// Whether a rule selects `identity` (rather than `manage = all` alone), for a
    /// namespace the rules manage.
    public func claim(of identity: NamespaceIdentity) -> FleetCapacity.Claim {
        rules.contains { $0.selectors.contains { $0.matches(identity) } } ? .rule : .fallback
    }
}
