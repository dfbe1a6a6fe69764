/// The unit a process belongs to: the system manager's unit, found where systemd puts it, and,
/// below a user's manager (`user@UID.service`), that user's own unit.
///
/// A user's manager is itself a unit of the system manager. So a process in the user unit
/// `legacy-app.service` of UID 1000 belongs to the system unit `user@1000.service` and to the
/// user unit `1000/legacy-app.service`, and never to a system unit `legacy-app.service`: the
/// user named that cgroup, and may name it anything.
public struct UnitIdentity: Sendable, Hashable, CustomStringConvertible {
    /// A unit of a user's manager, or a cgroup its user made below that manager.
    public struct UserUnit: Sendable, Hashable {
        public let uid: UInt32
        public let name: String

        public init(uid: UInt32, name: String) {
            self.uid = uid
            self.name = name
        }

        /// `UID/NAME`: what the glob of a `user-unit:` selector is matched against.
        public var qualified: String { "\(uid)/\(name)" }
    }

    /// The unit of the system manager: the first unit below the root slices
    /// (`nginx.service`, `session-2.scope`, `user@1000.service`, `docker-ID.scope`).
    public let system: String
    /// The user's unit, when ``system`` is a user's manager and the path goes on into one.
    public let user: UserUnit?

    public init(system: String, user: UserUnit? = nil) {
        self.system = system
        self.user = user
    }

    /// A unit of the system manager and nothing below it.
    public static func system(_ name: String) -> UnitIdentity { UnitIdentity(system: name) }

    /// The prefix of a user's unit as shown and as selected: `user-unit:UID/NAME`.
    public static let userPrefix = "user-unit:"

    /// How it is shown and logged (the `UNIT` column and field, metrics labels): the system
    /// unit, or `user-unit:UID/NAME` for a user's unit, so that no user's unit ever reads as the
    /// system's unit of that name.
    public var description: String { user.map { UnitIdentity.userPrefix + $0.qualified } ?? system }

    /// The UID of a user's manager unit, `user@UID.service`; `nil` for any other name.
    public static func userManagerUID(_ unit: some StringProtocol) -> UInt32? {
        guard unit.hasPrefix("user@"), unit.hasSuffix(".service") else { return nil }
        let digits = unit.dropFirst("user@".count).dropLast(".service".count)
        guard !digits.isEmpty, digits.utf8.allSatisfy(ASCII.isDigit) else { return nil }
        return UInt32(digits)
    }
}
