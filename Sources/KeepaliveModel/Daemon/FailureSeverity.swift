#if canImport(Glibc)
import Glibc
#endif

/// How serious a failed sysctl read or write is, decided in one place (as systemd's
/// `sysctl_write_or_warn()` does): from where it happened, whose values they were and the
/// errno, to what happens next and the sentence the admin reads.
public enum FailureSeverity {
    /// Where the failure happened.
    public enum Context: Sendable, Hashable {
        /// Putting the policy in force as the daemon starts.
        case start
        /// Putting a reloaded policy in force.
        case reload
        /// Writing back a value that drifted.
        case correction
        /// Reading the values for a drift check.
        case check
        /// Putting back the values found at first start (`restore-on-stop`).
        case restore
        /// A one-shot command (`apply`, `status`, `verify`).
        case command
    }

    /// Whose values they are.
    public enum Target: Sendable, Hashable {
        /// The daemon's own network namespace (the host's, under the shipped unit).
        case own
        /// Another network namespace the daemon manages (a container's).
        case managed
    }

    /// What happens next.
    public enum Consequence: Sendable, Hashable {
        /// The process ends with this status.
        case exit(ExitStatus)
        /// The last good policy stays in force.
        case keepLastGood
        /// Nothing changes now; the next periodic check tries again.
        case retryAtNextCheck
        /// This target is left alone from now on (reported once): nothing can be done there.
        case leaveAlone
        /// The failure is reported; there is nothing left to try (the daemon is stopping).
        case report
    }

    /// The consequence and the sentence that says it, e.g. "the drift remains; retrying at
    /// the next check (every 5s)".
    public struct Verdict: Sendable, Hashable {
        public let consequence: Consequence
        public let sentence: String
    }

    /// Judges a failure. `errno` is the failed call's (nil for a short write or a value the
    /// kernel did not keep); `profile` names what stays in force; `checkEvery` is the check
    /// interval in seconds.
    public static func verdict(errno: Int32?, context: Context, target: Target = .own,
                               profile: String = "", checkEvery seconds: Int = 5) -> Verdict {
        let every = TimeSpan.format(seconds: seconds)
        let immutable = errno.map { [EROFS, EACCES, EPERM].contains($0) } ?? false
        if target == .managed {
            if errno == ENOENT { return Verdict(consequence: .leaveAlone, sentence: "the namespace is gone") }
            if immutable && context != .restore {
                return Verdict(consequence: .leaveAlone,
                               sentence: "this namespace's keepalive values cannot be set from here; it is left alone (reported once)")
            }
            if context == .start {
                return Verdict(consequence: .leaveAlone,
                               sentence: "the namespace is not managed; nothing was left changed there, and it is tried again at the next full scan")
            }
        }
        switch context {
        case .start:
            return Verdict(consequence: .exit(.systemFailure),
                           sentence: "keepalived-tune cannot start; no value was left changed")
        case .reload:
            return Verdict(consequence: .keepLastGood, sentence: "reload rejected; still enforcing profile \(profile)")
        case .correction:
            return Verdict(consequence: .retryAtNextCheck,
                           sentence: "the drift remains; retrying at the next check (every \(every))")
        case .check:
            return Verdict(consequence: .retryAtNextCheck, sentence: "retrying every \(every)")
        case .restore:
            return Verdict(consequence: .report, sentence: "could not restore the value found at start")
        case .command:
            return Verdict(consequence: .exit(.systemFailure), sentence: "nothing was left changed")
        }
    }
}
