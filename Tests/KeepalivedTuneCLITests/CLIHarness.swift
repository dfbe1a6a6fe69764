import Foundation
import KeepaliveTestKit

/// A scratch setup for one command-line test: an empty profile dir, a config path that
/// does not exist yet, and a fake sysctl root at 7200/75/9.
final class CLIHarness {
    let directory: TemporaryDirectory
    let sysctl: FakeSysctlRoot
    var profileDirectory: String { directory.url("profiles") }
    var configPath: String { directory.url("keepalived-tune.conf") }

    init() throws {
        directory = try TemporaryDirectory("kt-cli")
        try directory.makeDirectory("profiles")
        sysctl = try FakeSysctlRoot()
    }

    /// The options that point a command at this harness.
    var options: [String] {
        ["--config", configPath, "--profile-dir", profileDirectory, "--sysctl-root", sysctl.path]
    }

    /// Runs `keepalived-tune ARGS` with this harness's options appended.
    func run(_ arguments: String...) throws -> ChildProcess.Result {
        try ChildProcess.run([ChildProcess.keepalivedTune] + arguments + options)
    }

    /// Writes a profile file into the profile dir; returns its path.
    @discardableResult
    func profile(_ name: String, _ text: String) throws -> String {
        try directory.write("profiles/\(name).conf", text)
    }

    @discardableResult
    func config(_ text: String) throws -> String {
        try directory.write("keepalived-tune.conf", text)
    }

    /// Decodes stdout as JSON.
    static func json(_ result: ChildProcess.Result) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }
}
