import Foundation
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// State files past 4 MiB (issue 32, finding 10): a podman `containers.json` of thousands
/// of containers and a mount table of thousands of bind mounts are read whole, at the
/// boundary and well past it, from files the test generates; what a cap still holds back
/// (a part past its limit, a bundle parsed whole) is said, never dropped without a word.
@Suite("State files past 4 MiB")
struct LargeStateFileTests {
    static let mebibytes4 = 4 << 20
    static let overlay = "var/lib/containers/storage/overlay-containers"
    /// The container every generated `containers.json` lists last, with a real bundle.
    static let last = RuntimeDirectoryTests.podman

    /// One `containers.json` entry, as containers/storage writes it (about 470 bytes).
    static func storageEntry(_ id: String, name: String) -> String {
        #"{"id":"\#(id)","names":["\#(name)"],"image":"5f6e0c9b8d4e21a7c4d93f2e1b6a08aa5f6e0c9b8d4e21a7c4d93f2e1b6a08aa","layer":"a3dc6ed93ee95628a261c97e3979fd1a9ffedc91f35394dabe69506e44558b15","metadata":"{\"image-name\":\"docker.io/library/busybox:latest\",\"image-id\":\"5f6e\",\"name\":\"\#(name)\",\"created-at\":1796236955}","created":"2026-12-02T18:42:35.72635219Z","flags":{"MountLabel":"","ProcessLabel":""}}"#
    }

    /// A podman tree whose `containers.json` holds `count` entries, the real container last,
    /// padded with blanks (valid JSON) to exactly `size` bytes if given.
    static func podmanTree(count: Int, size: Int? = nil) throws -> (TemporaryDirectory, Int) {
        let base = try TemporaryDirectory("kt-large")
        let bundle = "\(RuntimeDirectoryTests.root)/\(overlay)/\(last)/userdata/config.json"
        try base.write("\(overlay)/\(last)/userdata/config.json", String(contentsOfFile: bundle, encoding: .utf8))
        var entries = (0..<(count - 1)).map { storageEntry(String(format: "%064x", $0 + 0x1000), name: "filler-\($0)") }
        entries.append(storageEntry(last, name: "frontend-1"))
        var text = "[" + entries.joined(separator: ",") + "]"
        if let size {
            precondition(text.utf8.count <= size, "\(count) entries are \(text.utf8.count) bytes, over \(size)")
            text = "[" + String(repeating: " ", count: size - text.utf8.count) + text.dropFirst()
        }
        try base.write("\(overlay)/containers.json", text)
        return (base, text.utf8.count)
    }

    func podmanNames(_ base: TemporaryDirectory) -> (names: [String], problems: [StateFile.Problem]) {
        var roots = RuntimeDirectory.Roots(under: base.path)
        roots.containersRun = base.url("none")
        let reading = RuntimeDirectory(roots: roots, syscalls: .live).read()
        return (reading.entries.filter { $0.record.runtime == .podman }.map(\.record.name), reading.problems)
    }

    /// At 4 MiB, one byte past, and 9,000 containers: the last is still named.
    @Test(arguments: [(8_800, mebibytes4), (8_800, mebibytes4 + 1), (9_000, nil)] as [(Int, Int?)])
    func aLargeContainersJSONStillNamesItsContainers(count: Int, size: Int?) throws {
        let (base, bytes) = try Self.podmanTree(count: count, size: size)
        if let size { #expect(bytes == size) } else { #expect(bytes > Self.mebibytes4) }
        let found = podmanNames(base)
        #expect(found.names == ["frontend-1"], "containers.json of \(bytes) bytes")
        #expect(found.problems.isEmpty)
    }

    /// One entry past the most read of one item is skipped and said; the others are read.
    @Test func anOversizedEntryIsSkippedAndSaid() throws {
        let (base, _) = try Self.podmanTree(count: 3)
        let path = base.url("\(Self.overlay)/containers.json")
        let huge = Self.storageEntry(String(repeating: "9", count: 64), name: String(repeating: "x", count: StateFile.itemLimit))
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try base.write("\(Self.overlay)/containers.json", "[" + huge + "," + text.dropFirst())
        let found = podmanNames(base)
        #expect(found.names == ["frontend-1"])
        #expect(found.problems == [StateFile.Problem(path: path, reason: .partsTooLarge(count: 1, limit: StateFile.itemLimit))])
    }

    /// A bundle is parsed whole, so its cap stays: past it, the container is not named, and
    /// that is said.
    @Test func aBundlePastItsCapIsSaid() throws {
        let (base, _) = try Self.podmanTree(count: 2)
        let bundle = base.url("\(Self.overlay)/\(Self.last)/userdata/config.json")
        let text = try String(contentsOfFile: bundle, encoding: .utf8)
        let padded = "{" + String(repeating: " ", count: StateFile.documentLimit + 1 - text.utf8.count) + text.dropFirst()
        try base.write("\(Self.overlay)/\(Self.last)/userdata/config.json", padded)
        let found = podmanNames(base)
        #expect(found.names.isEmpty)
        #expect(found.problems == [StateFile.Problem(path: bundle, reason: .tooLarge(limit: StateFile.documentLimit))])
    }

    /// A mount table of `bindMounts` bind mounts (about 250 bytes each) and one nsfs pin,
    /// last, padded to exactly `size` bytes if given; the pin's inode.
    static func mountTable(bindMounts: Int, size: Int? = nil) throws -> (TemporaryDirectory, UInt64, Int) {
        let proc = try TemporaryDirectory("kt-large-proc")
        try proc.write("self/ns/net", "")
        let pinPath = try proc.write("root/run/netns/kt-last", "")
        let inode = try #require(try FileManager.default.attributesOfItem(atPath: pinPath)[.systemFileNumber] as? UInt64)
        var lines = (0..<bindMounts).map { index in
            "\(1000 + index) 29 253:1 /srv/data/volumes/project-\(index)/_data /var/lib/containers/storage/overlay/\(String(format: "%064x", index))/merged/data rw,relatime shared:\(index) master:1 - ext4 /dev/mapper/vg0-data rw,errors=remount-ro\n"
        }
        let pin = "\(1000 + bindMounts) 29 0:4 net:[\(inode)] /run/netns/kt-last rw shared:2 - nsfs nsfs rw\n"
        if let size {
            let total = lines.reduce(0) { $0 + $1.utf8.count } + pin.utf8.count
            precondition(total <= size)
            lines[0] = String(lines[0].dropLast()) + String(repeating: " ", count: size - total) + "\n"   // a longer option field
        }
        let text = lines.joined() + pin
        try proc.write("mountinfo", text)
        return (proc, inode, text.utf8.count)
    }

    func pins(_ proc: TemporaryDirectory) -> NamespaceDiscovery.Found {
        var roots = NamespaceDiscovery.Roots()
        roots.proc = proc.path
        roots.mountinfo = proc.url("mountinfo")
        roots.pinRoot = proc.url("root")
        roots.runtimes = .init(under: proc.url("no-runtimes"))
        return NamespaceDiscovery(roots: roots, syscalls: .live).scan(processes: false)
    }

    /// At 4 MiB, one byte past, and 17,500 bind mounts: the pin after them is found.
    @Test(arguments: [(16_000, mebibytes4), (16_000, mebibytes4 + 1), (17_500, nil)] as [(Int, Int?)])
    func aLargeMountTableStillFindsThePinAfterIt(bindMounts: Int, size: Int?) throws {
        let (proc, inode, bytes) = try Self.mountTable(bindMounts: bindMounts, size: size)
        if let size { #expect(bytes == size) } else { #expect(bytes > Self.mebibytes4) }
        let found = pins(proc)
        #expect(found.identities[inode]?.netnsNames == ["kt-last"], "a mount table of \(bytes) bytes")
        #expect(found.problems.isEmpty)
    }
}
