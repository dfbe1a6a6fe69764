#if canImport(Glibc)
import Glibc
#endif

/// A point where a debug build of the command line can be held still by a test, so that a
/// race between what it saw and what it does is reproduced deterministically, never by
/// sleeping: `KEEPALIVED_TUNE_TEST_PAUSE=POINT:FIFO` makes the command, on reaching POINT,
/// open FIFO to read and wait for end of file. The test's open of FIFO to write returns
/// exactly when the command waits there; it changes the world, closes its end, and the
/// command goes on.
///
/// Release builds (`swift build -c release`, `scripts/build-release`) compile it to nothing:
/// the installed binary reads no such variable.
enum TestPause: String {
    /// `connections --enable-keepalive`: the plan is made (and its processes' pidfds opened),
    /// nothing is changed yet.
    case beforeRetrofit = "before-retrofit"
    /// `connections --all-namespaces`: the namespaces are found, none is audited yet.
    case afterDiscovery = "after-discovery"

    /// Waits here if the environment asks for this point; returns at once otherwise.
    func wait() {
        #if DEBUG
        guard let raw = getenv("KEEPALIVED_TUNE_TEST_PAUSE") else { return }
        let setting = String(cString: raw)
        guard setting.hasPrefix(rawValue + ":") else { return }
        let fd = open(String(setting.dropFirst(rawValue.count + 1)), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        var byte: UInt8 = 0
        while read(fd, &byte, 1) > 0 {}
        close(fd)
        #endif
    }
}
