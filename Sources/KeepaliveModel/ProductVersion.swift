/// keepalived-tune's version: the one place it is written. `--version` prints it, the
/// metrics' `keepalived_tune_info` carries it, and the Debian package takes it from here.
public enum ProductVersion {
    public static let current = "0.1.0"
}
