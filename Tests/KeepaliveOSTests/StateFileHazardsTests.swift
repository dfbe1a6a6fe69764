import Foundation
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// The runtimes' state files and the mount table, where something other than a plain file
/// stands (issue 32, finding 6): a FIFO there must neither block the reader (the daemon's
/// one loop) nor hide the other runtimes' containers. Each case copies the runtimes' real
/// layouts (Tests/Fixtures/runtimes) into a directory of the test's own and puts a FIFO at
/// one file; the read runs on a thread of its own, and a read still blocked after the bound
/// is let go by opening the FIFO's other end.
@Suite("Runtime state files that are not plain files")
struct StateFileHazardsTests {
    static let podman = RuntimeDirectoryTests.podman, crio = RuntimeDirectoryTests.crio
    static let containerd = RuntimeDirectoryTests.containerd, docker = RuntimeDirectoryTests.docker

    /// Each runtime file a FIFO can stand at, and the containers still read then.
    enum Spot: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case podmanIndex = "var/lib/containers/storage/overlay-containers/containers.json"
        case podmanBundle = "var/lib/containers/storage/overlay-containers/1111111111111111111111111111111111111111111111111111111111111111/userdata/config.json"
        case crioBundle = "run/containers/storage/overlay-containers/2222222222222222222222222222222222222222222222222222222222222222/userdata/config.json"
        case containerdBundle = "run/containerd/io.containerd.runtime.v2.task/k8s.io/3333333333333333333333333333333333333333333333333333333333333333/config.json"
        case dockerDaemonJSON = "etc/docker/daemon.json"
        case dockerConfig = "var/lib/docker/containers/4444444444444444444444444444444444444444444444444444444444444444/config.v2.json"
        case dockerHostConfig = "var/lib/docker/containers/4444444444444444444444444444444444444444444444444444444444444444/hostconfig.json"

        var testDescription: String { String(rawValue.split(separator: "/").suffix(2).joined(separator: "/")) }

        /// The container ids still read with a FIFO here.
        var stillRead: Set<String> {
            let all: Set = [StateFileHazardsTests.podman, StateFileHazardsTests.crio, StateFileHazardsTests.containerd, StateFileHazardsTests.docker]
            switch self {
            case .podmanIndex, .podmanBundle: return all.subtracting([StateFileHazardsTests.podman])
            case .crioBundle: return all.subtracting([StateFileHazardsTests.crio])
            case .containerdBundle: return all.subtracting([StateFileHazardsTests.containerd])
            // A container whose explicit values cannot be read is not claimed as known.
            case .dockerConfig, .dockerHostConfig: return all.subtracting([StateFileHazardsTests.docker])
            case .dockerDaemonJSON: return all   // docker's default data root, then
            }
        }
    }

    /// The fixture tree, copied into a directory of the test's own.
    static func copiedRuntimes() throws -> TemporaryDirectory {
        let base = try TemporaryDirectory("kt-fifo")
        for top in ["var", "run"] {
            try FileManager.default.copyItem(atPath: "\(RuntimeDirectoryTests.root)/\(top)", toPath: base.url(top))
        }
        try base.makeDirectory("etc/docker")
        return base
    }

    @Test(arguments: Spot.allCases)
    func aFIFOAtARuntimeFileNeitherBlocksNorHidesTheOthers(_ spot: Spot) throws {
        let base = try Self.copiedRuntimes()
        let fifo = try FIFO(at: base.url(spot.rawValue))
        let roots = RuntimeDirectory.Roots(under: base.path)
        let outcome = fifo.run { RuntimeDirectory(roots: roots, syscalls: .live).read() }
        #expect(outcome.endedAlone, "reading the runtimes' files blocked on the FIFO at \(spot.rawValue)")
        #expect(Set(outcome.value.entries.map(\.record.id)) == spot.stillRead)
        #expect(outcome.value.problems == [StateFile.Problem(path: fifo.path, reason: .notRegular("a FIFO"))])
    }

    @Test func aFIFOAtTheMountTableNeitherBlocksNorStopsTheScan() throws {
        let proc = try TemporaryDirectory("kt-fifo-proc")
        try proc.write("self/ns/net", "")
        let fifo = try FIFO(at: proc.url("mountinfo"))
        var roots = NamespaceDiscovery.Roots()
        roots.proc = proc.path
        roots.mountinfo = fifo.path
        roots.pinRoot = proc.url("root")
        roots.runtimes = .init(under: proc.url("no-runtimes"))
        let outcome = fifo.run { [roots] in NamespaceDiscovery(roots: roots, syscalls: .live).scan(processes: true) }
        #expect(outcome.endedAlone, "the scan blocked on a FIFO at the mount table")
        #expect(outcome.value.identities.count == 1, "the daemon's own namespace, and no pins")
        #expect(outcome.value.problems == [StateFile.Problem(path: fifo.path, reason: .notRegular("a FIFO"))])
    }

    /// A symlink is refused where none is followed, and said; docker's `daemon.json`, a
    /// config dockerd itself reads through links, is followed.
    @Test func symlinksAreRefusedButDaemonJSONIsFollowed() throws {
        let base = try Self.copiedRuntimes()
        let index = base.url(Spot.podmanIndex.rawValue)
        try FileManager.default.moveItem(atPath: index, toPath: index + ".real")
        try FileManager.default.createSymbolicLink(atPath: index, withDestinationPath: index + ".real")
        let moved = try base.makeDirectory("srv/docker")
        try FileManager.default.moveItem(atPath: base.url("var/lib/docker/containers"), toPath: moved + "/containers")
        try base.write("etc/docker/daemon.real.json", #"{"data-root": "\#(moved)"}"#)
        try FileManager.default.createSymbolicLink(atPath: base.url(Spot.dockerDaemonJSON.rawValue), withDestinationPath: "daemon.real.json")
        let reading = RuntimeDirectory(roots: .init(under: base.path), syscalls: .live).read()
        #expect(Set(reading.entries.map(\.record.id)) == [Self.crio, Self.containerd, Self.docker])
        #expect(reading.problems == [StateFile.Problem(path: index, reason: .symlink)])
    }

    /// A directory at a state file is refused the same way.
    @Test func aDirectoryIsRefused() throws {
        let base = try Self.copiedRuntimes()
        let bundle = base.url(Spot.crioBundle.rawValue)
        try FileManager.default.removeItem(atPath: bundle)
        try base.makeDirectory(Spot.crioBundle.rawValue)
        #expect(RuntimeDirectory(roots: .init(under: base.path), syscalls: .live).read().problems == [StateFile.Problem(path: bundle, reason: .notRegular("a directory"))])
    }
}
