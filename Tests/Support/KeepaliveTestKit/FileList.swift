import Foundation

/// Directory listings for tests.
public enum FileList {
    /// The package's top directory (this source file sits in Tests/Support/KeepaliveTestKit).
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The `*.conf` names in a directory.
    public static func confFiles(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".conf") }
    }
}
