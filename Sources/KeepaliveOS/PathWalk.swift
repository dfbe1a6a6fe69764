#if canImport(Glibc)
import Glibc
#endif

/// How a path resolves, entry by entry, as the kernel follows it: every symlink met on the
/// way (with the directory holding it) and the entry it ends at.
///
/// Two things need it. The config watch watches every link on the way, so that a config
/// published as `kt.conf -> ..data/kt.conf` (Kubernetes ConfigMaps, config managers) reloads
/// when `..data` is swapped. And the ownership check (strict modes) looks at the real path
/// and every directory on it, and at every link, so that no one but root can swap what the
/// daemon reads.
public struct PathWalk: Sendable, Hashable {
    /// One directory entry on the way.
    public struct Step: Sendable, Hashable {
        /// The directory holding the entry (a real path, no link in it).
        public let directory: String
        public let name: String
        /// Whether the entry is a symlink that was followed.
        public let isLink: Bool
        /// Its owner, for a link (the uid that may replace it).
        public let owner: UInt32
    }

    /// The symlinks followed, in order, then the final entry (which may not exist).
    public let steps: [Step]
    /// The real path the walk ends at (which may not exist), or `nil` if it failed.
    public let real: String?
    /// Why it failed: ELOOP (too many links), ENAMETOOLONG, or the error of a call on the way.
    public let failure: Errno?

    /// The links followed.
    public var links: [Step] { steps.filter(\.isLink) }

    /// The most links followed before giving up with ELOOP, as the kernel does.
    static let maximumLinks = 40

    /// Resolves `path` (relative to the working directory if not absolute).
    public static func resolve(_ path: String, syscalls: Syscalls) -> PathWalk {
        var resolved = "/"
        if !path.hasPrefix("/") {
            switch syscalls.realPath(".") {
            case .success(let cwd): resolved = cwd
            case .failure(let error): return PathWalk(steps: [], real: nil, failure: error)
            }
        }
        var pending = components(path)[...]
        var steps: [Step] = []
        var links = 0
        while let name = pending.popFirst() {
            if name == ".." {
                resolved = PathWalk.directory(of: resolved)
                continue
            }
            let candidate = PathWalk.join(resolved, name)
            guard candidate.utf8.count < PATH_MAX else { return PathWalk(steps: steps, real: nil, failure: Errno(ENAMETOOLONG)) }
            switch syscalls.linkStatus(candidate) {
            case .failure(let error) where error.code == ENOENT:
                // The rest does not exist (yet): the walk ends where it would be.
                steps.append(Step(directory: resolved, name: name, isLink: false, owner: 0))
                let rest = pending.reduce(candidate) { PathWalk.join($0, $1) }
                return PathWalk(steps: steps, real: rest, failure: nil)
            case .failure(let error):
                return PathWalk(steps: steps, real: nil, failure: error)
            case .success(let status) where status.kind == .symlink:
                links += 1
                guard links <= maximumLinks else { return PathWalk(steps: steps, real: nil, failure: Errno(ELOOP)) }
                guard case .success(let target) = syscalls.readLink(candidate) else {
                    return PathWalk(steps: steps, real: nil, failure: Errno(EINVAL))
                }
                steps.append(Step(directory: resolved, name: name, isLink: true, owner: status.owner))
                if target.hasPrefix("/") { resolved = "/" }
                pending = (components(target) + pending)[...]
            case .success:
                resolved = candidate
                if pending.isEmpty { steps.append(Step(directory: PathWalk.directory(of: candidate), name: name, isLink: false, owner: 0)) }
            }
        }
        return PathWalk(steps: steps, real: resolved, failure: nil)
    }

    /// The directories from `path`'s directory up to `/`, nearest first.
    public static func ancestors(of path: String) -> [String] {
        var result: [String] = []
        var current = directory(of: path)
        while true {
            result.append(current)
            if current == "/" { return result }
            current = directory(of: current)
        }
    }

    /// The names in a path, without empty ones and `.`.
    static func components(_ path: String) -> [String] {
        path.split(separator: "/").filter { $0 != "." }.map(String.init)
    }

    /// `/a/b` → `/a`; `/a` → `/`.
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `/a/b` → `b`.
    public static func name(of path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory == "/" ? "/" + name : directory + "/" + name
    }
}
