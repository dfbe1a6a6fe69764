import Foundation

/// Runs a program to completion and captures its output.
public struct ChildProcess {
    /// What a finished program left behind.
    public struct Result: CustomStringConvertible, Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        public var description: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
    }

    /// The environment for a child process: this one's, with `extra` on top.
    ///
    /// Under a sanitizer run (`scripts/sanitize`), the test runner itself does not look for
    /// leaks (XCTest and Foundation's Process leave some behind), but the product binaries it
    /// starts do: `KT_CHILD_ASAN_OPTIONS` becomes their `ASAN_OPTIONS`, and a leak makes them
    /// exit non-zero, which the tests' exit-code checks catch.
    public static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let child = environment["KT_CHILD_ASAN_OPTIONS"] { environment["ASAN_OPTIONS"] = child }
        environment.merge(extra) { $1 }
        return environment
    }

    /// Whether the tests run under a sanitizer, where memory figures mean nothing.
    public static var underSanitizer: Bool { ProcessInfo.processInfo.environment["KT_SANITIZER"] != nil }

    /// Runs `arguments[0]` (searched in PATH) with the rest as arguments.
    public static func run(_ arguments: [String], environment: [String: String]? = nil,
                           stdin: String? = nil) throws -> Result {
        let child = try SpawnedProcess(arguments, environment: environment ?? ChildProcess.environment(),
                                       stdin: .pipe, stdout: .pipe, stderr: .pipe)
        if let stdin { child.input?.write(Data(stdin.utf8)) }
        try child.input?.close()
        // Read both pipes to the end before waiting, so a chatty child never blocks.
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        DispatchQueue.global().async(group: group) { errData = child.error?.readDataToEndOfFile() ?? Data() }
        let outData = child.output?.readDataToEndOfFile() ?? Data()
        group.wait()
        return Result(status: child.wait(),
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// The directory holding the package's built products (beside the test bundle).
    public static var productsDirectory: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }

    /// The built `keepalived-tune` binary.
    public static var keepalivedTune: String { "\(productsDirectory)/keepalived-tune" }
}

/// Running commands in a fresh private network namespace through unshare(1): `-n` as
/// root, `-rn` (a user namespace too) otherwise.
public enum UnshareNetwork {
    /// The unshare prefix for this user.
    public static var prefix: [String] { geteuid() == 0 ? ["unshare", "-n"] : ["unshare", "-rn"] }

    /// Why unshare cannot give a private network namespace here, or `nil` if it can.
    public static let unavailableReason: String? = {
        guard let result = try? ChildProcess.run(prefix + ["true"]) else { return "unshare(1) is not installed" }
        return result.status == 0 ? nil : "\(prefix.joined(separator: " ")) failed: \(result.stderr)"
    }()

    /// Runs a shell script in one new private network namespace (and a private mount
    /// namespace, if asked).
    public static func script(_ script: String, mountNamespace: Bool = false,
                              environment: [String: String]? = nil) throws -> ChildProcess.Result {
        try ChildProcess.run(prefix + (mountNamespace ? ["-m"] : []) + ["sh", "-c", script], environment: environment)
    }
}
