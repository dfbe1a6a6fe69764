import Foundation

/// An AF_UNIX datagram socket bound at a path that nobody ever reads.
final class UnreadSocket: @unchecked Sendable {
    let path: String
    private let fd: Int32

    /// Binds the socket at `path` (close-on-exec); it is unlinked when the value is released.
    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0 else { throw POSIXError(.EIO) }
    }

    deinit {
        close(fd)
        unlink(path)
    }
}
