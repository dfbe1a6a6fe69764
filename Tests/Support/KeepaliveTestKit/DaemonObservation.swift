import Foundation

/// What /proc says about the daemon under test: its footprint, whether it waits in poll(2)
/// or is stopped, and how often it has woken up.
extension DaemonUnderTest {
    /// The daemon's resident memory (VmRSS, kB) and open descriptors, from /proc, read once
    /// it is back waiting in poll(2): mid-reload it holds config files open and the code
    /// pages a reload touched, which it hands back before it waits again.
    public func footprint() throws -> (rssKB: Int, descriptors: Int) {
        _ = waitUntilWaiting()
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?
            .split(separator: " ").compactMap { Int($0) }.first ?? -1
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
        return (rss, descriptors)
    }

    /// Waits until the daemon sleeps in poll(2), its idle wait (the kernel's wait channel in
    /// /proc/PID/wchan); returns whether it did within `timeout` seconds.
    @discardableResult
    public func waitUntilWaiting(timeout: Double = MessageLog.defaultTimeout) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let channel = try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8),
               channel.hasPrefix("poll_schedule") || channel.hasPrefix("do_sys_poll") {
                return true
            }
            usleep(500)   // no event marks "now idle": look again shortly
        }
        return false
    }

    /// How often the daemon has been switched out so far: every wake-up from poll(2) ends in
    /// one more (`voluntary_ctxt_switches` + `nonvoluntary_ctxt_switches` in /proc/PID/status).
    /// A count of events, the same on a fast or a busy machine.
    public func wakeUps() throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        return status.split(separator: "\n")
            .filter { $0.hasPrefix("voluntary_ctxt_switches:") || $0.hasPrefix("nonvoluntary_ctxt_switches:") }
            .compactMap { $0.split(separator: "\t").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
            .reduce(0, +)
    }

    /// Waits until the daemon is stopped by a signal (state `T` in /proc/PID/stat).
    @discardableResult
    public func waitUntilStopped(timeout: Double = MessageLog.defaultTimeout) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
               let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] == "T" {
                return true
            }
            usleep(500)   // no event marks "now stopped": look again shortly
        }
        return false
    }
}
