import Foundation
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// Identity from the container runtimes' real file layouts (Tests/Fixtures/runtimes, with
/// the sources that write each file cited in its README), and the namespaces they lead to.
@Suite("Container runtimes' files and namespace discovery")
struct RuntimeDirectoryTests {
    static let root = FileList.packageRoot + "/Tests/Fixtures/runtimes"
    static let podman = String(repeating: "1", count: 64), crio = String(repeating: "2", count: 64)
    static let containerd = String(repeating: "3", count: 64), docker = String(repeating: "4", count: 64)

    @Test func everyRuntimesContainersAreRead() {
        let entries = RuntimeDirectory(roots: .init(under: Self.root), syscalls: .live).entries()
        let byID = Dictionary(uniqueKeysWithValues: entries.map { ($0.record.id, $0) })
        #expect(entries.count == 4)

        let podman = byID[Self.podman]
        #expect(podman?.record == ContainerRecord(runtime: .podman, id: Self.podman, name: "frontend-1", sysctls: [.time: 600]))
        #expect(podman?.networkPath == "/run/netns/netns-96bd2789-5849-a0e2-412e-ac3ea434afc0")

        let crio = byID[Self.crio]
        #expect(crio?.record.runtime == .crio && crio?.record.pod == "shop/cart-7d9")
        #expect(crio?.record.sysctls == [.intvl: 20])
        #expect(crio?.networkPath == "/run/netns/6c1f0c9e-3b0a-4d7e-9d3f-2a1b0c9d8e7f")   // /var/run spelt /run

        let k8s = byID[Self.containerd]
        #expect(k8s?.record.runtime == .containerd && k8s?.record.pod == "api/orders-5f7" && k8s?.record.name == "orders-5f7")
        #expect(k8s?.record.sysctls == [.time: 300, .probes: 4])
        #expect(k8s?.networkPath == "/run/netns/cni-8f2e1d3c-4b5a-6978-8a9b-0c1d2e3f4a5b")

        let docker = byID[Self.docker]
        #expect(docker?.record == ContainerRecord(runtime: .docker, id: Self.docker, name: "nginx-1", sysctls: [.time: 900]))
        #expect(docker?.networkPath == "/run/docker/netns/666666666666")
    }

    /// docker's files live where `daemon.json`'s `data-root` says; a stopped container (its
    /// sandbox gone) is no container to look for.
    @Test func dockersDataRootComesFromDaemonJSONAndStoppedContainersAreSkipped() throws {
        let base = try TemporaryDirectory()
        let fixture = "\(Self.root)/var/lib/docker/containers/\(Self.docker)"
        let config = try String(contentsOfFile: "\(fixture)/config.v2.json", encoding: .utf8)
        let hostConfig = try String(contentsOfFile: "\(fixture)/hostconfig.json", encoding: .utf8)
        let stopped = String(repeating: "7", count: 64)
        try base.write("srv/docker/containers/\(Self.docker)/config.v2.json", config)
        try base.write("srv/docker/containers/\(Self.docker)/hostconfig.json", hostConfig)
        try base.write("srv/docker/containers/\(stopped)/config.v2.json", config
            .replacingOccurrences(of: Self.docker, with: stopped).replacingOccurrences(of: "\"Running\":true", with: "\"Running\":false"))
        var roots = RuntimeDirectory.Roots(under: base.path)
        #expect(RuntimeDirectory(roots: roots, syscalls: .live).entries().isEmpty)   // no daemon.json: /var/lib/docker, empty here
        try base.write("etc/docker/daemon.json", #"{"log-driver": "journald", "data-root": "\#(base.url("srv/docker"))"}"#)
        let entries = RuntimeDirectory(roots: roots, syscalls: .live).entries()
        #expect(entries.map(\.record) == [ContainerRecord(runtime: .docker, id: Self.docker, name: "nginx-1", sysctls: [.time: 900])])
        roots.dockerConfig = base.url("etc/docker/missing.json")
        #expect(RuntimeDirectory(roots: roots, syscalls: .live).entries().isEmpty)
    }

    func label(_ identity: NamespaceIdentity?) -> String? { identity.map { "\($0.label.kind) \($0.label.name)" } }

    @Test func aMissingRuntimeIsNoContainers() throws {
        let empty = try TemporaryDirectory()
        #expect(RuntimeDirectory(roots: .init(under: empty.path), syscalls: .live).entries().isEmpty)
    }

    /// A fake `/proc` and mountinfo: pins for podman, CRI-O and containerd; docker's
    /// container found only through a member process's cgroup.
    @Test func discoveryLinksPinsAndProcessesToContainers() throws {
        let proc = try TemporaryDirectory()
        try proc.makeDirectory("self/ns")
        try proc.write("self/ns/net", "")
        try proc.makeDirectory("300/ns")
        try proc.write("300/ns/net", "")
        try proc.write("300/cgroup", "0::/system.slice/docker-\(Self.docker).scope\n")
        try proc.makeDirectory("301/ns")
        try proc.write("301/ns/net", "")
        try proc.write("301/cgroup", "0::/system.slice/app.service\n")
        // Each pin is a file whose inode stands for the namespace's; a hidden one (in
        // mountinfo, its path leading elsewhere) is not a pin.
        func pin(_ path: String) throws -> UInt64 {
            try proc.makeDirectory("root" + (path as NSString).deletingLastPathComponent)
            try proc.write("root" + path, "")
            return try #require(try FileManager.default.attributesOfItem(atPath: proc.url("root" + path))[.systemFileNumber] as? UInt64)
        }
        let podmanPin = try pin("/run/netns/netns-96bd2789-5849-a0e2-412e-ac3ea434afc0")
        let crioPin = try pin("/run/netns/6c1f0c9e-3b0a-4d7e-9d3f-2a1b0c9d8e7f")
        let cniPin = try pin("/run/netns/cni-8f2e1d3c-4b5a-6978-8a9b-0c1d2e3f4a5b")
        let unknownPin = try pin("/run/netns/cni-unknown")
        let vpnPin = try pin("/run/netns/vpn-a")
        try proc.write("mountinfo", """
            48 22 0:4 net:[\(podmanPin)] /run/netns/netns-96bd2789-5849-a0e2-412e-ac3ea434afc0 rw shared:2 - nsfs nsfs rw
            49 22 0:4 net:[\(crioPin)] /var/run/netns/6c1f0c9e-3b0a-4d7e-9d3f-2a1b0c9d8e7f rw - nsfs nsfs rw
            50 22 0:4 net:[\(cniPin)] /run/netns/cni-8f2e1d3c-4b5a-6978-8a9b-0c1d2e3f4a5b rw - nsfs nsfs rw
            51 22 0:4 net:[\(unknownPin)] /run/netns/cni-unknown rw - nsfs nsfs rw
            52 22 0:4 net:[\(vpnPin)] /run/netns/vpn-a rw - nsfs nsfs rw
            53 22 0:4 net:[777] /run/netns/hidden-by-a-tmpfs rw - nsfs nsfs rw

            """)
        var roots = NamespaceDiscovery.Roots()
        roots.proc = proc.path
        roots.mountinfo = proc.url("mountinfo")
        roots.pinRoot = proc.url("root")
        roots.runtimes = .init(under: Self.root)
        // The cgroups the members' paths lead through, owned as a host's are (by this test).
        try proc.makeDirectory("cgroup/system.slice")
        roots.cgroup = proc.url("cgroup")
        roots.cgroupOwner = geteuid()
        let discovery = NamespaceDiscovery(roots: roots, syscalls: .live)
        let found = discovery.scan(processes: true)
        let dockerInode = try #require(try? FileManager.default.attributesOfItem(atPath: proc.url("300/ns/net"))[.systemFileNumber] as? UInt64)
        let appInode = try #require(try? FileManager.default.attributesOfItem(atPath: proc.url("301/ns/net"))[.systemFileNumber] as? UInt64)

        #expect(label(found.identities[podmanPin]) == "podman frontend-1")
        #expect(found.identities[podmanPin]?.explicit == [.time: 600])
        #expect(label(found.identities[crioPin]) == "k8s shop/cart-7d9")
        #expect(label(found.identities[cniPin]) == "k8s api/orders-5f7")
        #expect(label(found.identities[dockerInode]) == "docker nginx-1")
        #expect(found.identities[dockerInode]?.explicit == [.time: 900])
        #expect(found.identities[appInode]?.units == ["app.service"])
        #expect(label(found.identities[vpnPin]) == "netns vpn-a")
        #expect(found.identities[discovery.ownInode]?.isOwn == true)
        // A runtime's pin whose container is not in its files yet is worth waiting for; an
        // iproute2 name is not.
        #expect(found.awaiting == [unknownPin])
        #expect(found.identities[777] == nil)
        #expect(found.entries[podmanPin] == "/run/netns/netns-96bd2789-5849-a0e2-412e-ac3ea434afc0")
        #expect(found.entries[dockerInode] == "\(proc.path)/300/ns/net")

        // A quick scan (no /proc) still knows what the last full one saw.
        #expect(label(discovery.scan(processes: false).identities[dockerInode]) == "docker nginx-1")
    }
}
