import Foundation
import KeepaliveBPF
import KeepaliveTestKit
import Testing

/// The committed kernel objects (Sources/KeepaliveBPF/Objects) are what their source builds
/// to: the check that makes committing them (scripts/build-bpf says why) safe.
@Suite("The embedded BPF objects are current")
struct BPFObjectsTests {
    /// The manifest's lines of one kind (`source` or `object`): hash by path.
    static func manifest(_ kind: String) -> [String: String] {
        var entries: [String: String] = [:]
        for line in BPFObjects.manifest.split(separator: "\n") where line.hasPrefix(kind + " ") {
            let words = line.split(separator: " ")
            if words.count == 3 { entries[String(words[2])] = String(words[1]) }
        }
        return entries
    }

    /// SHA-256 of a file, by sha256sum(1).
    static func sha256(_ path: String) throws -> String {
        let result = try ChildProcess.run(["sha256sum", path])
        try #require(result.status == 0, "sha256sum \(path): \(result)")
        return String(result.stdout.prefix(64))
    }

    /// An edited program or layout without a rebuild fails here.
    @Test func everySourceHashesAsTheManifestSays() throws {
        let sources = Self.manifest("source")
        let programs = try FileManager.default.contentsOfDirectory(atPath: FileList.packageRoot + "/Sources/KeepaliveBPF/programs")
            .filter { $0.hasSuffix(".bpf.c") || $0.hasSuffix(".h") }.map { "KeepaliveBPF/programs/\($0)" }
        #expect(Set(sources.keys) == Set(programs + ["CLibbpf/include/kt_bpf_layout.h"]),
                "the manifest names every program, header and the shared layout")
        for (path, hash) in sources {
            #expect(try Self.sha256(FileList.packageRoot + "/Sources/" + path) == hash,
                    "\(path) changed since its object was built: run scripts/build-bpf and commit the objects")
        }
    }

    /// The binary embeds exactly the committed objects the manifest names.
    @Test func theEmbeddedBytesAreTheCommittedObjects() throws {
        let objects = Self.manifest("object")
        let embedded = ["KeepaliveBPF/Objects/keepalive.bpf.o": BPFObjects.keepalive,
                        "KeepaliveBPF/Objects/sysctl.bpf.o": BPFObjects.sysctl]
        #expect(Set(objects.keys) == Set(embedded.keys))
        let directory = try TemporaryDirectory("kt-bpf-objects")
        for (path, bytes) in embedded {
            let copy = try directory.write((path as NSString).lastPathComponent, bytes: bytes)
            #expect(try Self.sha256(copy) == objects[path], "\(path) embedded")
            #expect(try Self.sha256(FileList.packageRoot + "/Sources/" + path) == objects[path], "\(path) on disk")
        }
    }

    /// A rebuild with the toolchain's clang gives the committed bytes. On CI it always runs;
    /// elsewhere only with the clang the manifest names (another clang emits other bytes).
    @Test(.enabled(if: BPFObjectsTests.rebuildSkipReason == nil, Comment(rawValue: BPFObjectsTests.rebuildSkipReason ?? "")))
    func aRebuildGivesTheCommittedBytes() throws {
        let result = try ChildProcess.run(["bash", FileList.packageRoot + "/scripts/build-bpf", "--check"])
        #expect(result.status == 0, "\(result)")
    }

    /// Why the rebuild is not compared here; `nil` when it is (always on CI).
    static let rebuildSkipReason: String? = {
        if ProcessInfo.processInfo.environment["CI"] == "true" { return nil }
        guard let swift = ChildProcessLookup.path(of: "swift") else { return "swift is not on PATH" }
        let clang = (swift as NSString).deletingLastPathComponent + "/clang"
        guard let version = try? ChildProcess.run([clang, "--version"]), version.status == 0 else { return "no clang beside swift" }
        guard let firstLine = version.stdout.split(separator: "\n").first,
              BPFObjects.manifest.contains("compiler \(firstLine)\n") else {
            return "the objects were built by another clang than \(clang)"
        }
        guard FileManager.default.fileExists(atPath: "/usr/include/bpf/bpf_helpers.h") else { return "libbpf-dev is not installed" }
        return nil
    }()
}
