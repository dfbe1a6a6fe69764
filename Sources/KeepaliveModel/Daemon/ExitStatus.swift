/// The exit statuses of `keepalived-tune`, one table for the daemon and every command.
public enum ExitStatus: Int32, Sendable, Error {
    /// Done; for `verify`, the kernel matches the policy.
    case success = 0
    /// `verify`: the kernel's values differ from the policy.
    case drift = 1
    /// The config or a profile is invalid. Restarting does not mend it
    /// (`RestartPreventExitStatus=2` in the unit).
    case invalid = 2
    /// A system failure: a value cannot be read or written, a file cannot be read for a
    /// reason other than its contents (EMFILE, EIO), an event source cannot be created.
    case systemFailure = 3
    /// A command line that does not fit (sysexits' EX_USAGE).
    case usage = 64
}
