import KeepaliveModel

/// The container runtimes' records on this host (podman, CRI-O, containerd, docker), read
/// from their files (``RuntimeFiles`` says which and why), each with what links it to a
/// network namespace: the path the runtime pinned the namespace at, or else the container
/// id that a member process's cgroup path carries.
public struct RuntimeDirectory: Sendable {
    /// Where each runtime keeps its files; tests point these into a temp dir.
    public struct Roots: Sendable, Hashable {
        /// podman's graph root (`containers.json` and the OCI bundles).
        public var podmanGraph = "/var/lib/containers/storage"
        /// containers/storage's run root (CRI-O's OCI bundles).
        public var containersRun = "/run/containers/storage"
        /// containerd's v2 task bundles, one directory per containerd namespace.
        public var containerdTasks = "/run/containerd/io.containerd.runtime.v2.task"
        /// docker's `daemon.json`, whose `data-root` moves docker's files.
        public var dockerConfig = "/etc/docker/daemon.json"
        /// docker's data root when `daemon.json` sets none.
        public var dockerData = "/var/lib/docker"

        public init() {}

        /// All of them under one directory, as a test lays them out.
        public init(under base: String) {
            podmanGraph = base + podmanGraph
            containersRun = base + containersRun
            containerdTasks = base + containerdTasks
            dockerConfig = base + dockerConfig
            dockerData = base + dockerData
        }
    }

    /// One container and how to find its namespace.
    public struct Entry: Sendable, Hashable {
        public var record: ContainerRecord
        /// The namespace's pinned path (canonical, `/run/...`), if the runtime pinned one.
        public var networkPath: String?
    }

    public let roots: Roots
    let syscalls: Syscalls

    /// The runtimes' state under `roots`, read through `syscalls`.
    public init(roots: Roots = Roots(), syscalls: Syscalls) {
        self.roots = roots
        self.syscalls = syscalls
    }

    /// Every container the runtimes' files describe now.
    public func entries() -> [Entry] {
        podman() + crio() + containerd() + docker()
    }

    private func read(_ path: String) -> String? { FileReader.wholeFile(path, syscalls: syscalls) }

    private func list(_ directory: String) -> [String] {
        guard case .success(let names) = syscalls.readDirectory(directory) else { return [] }
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    private func podman() -> [Entry] {
        let base = "\(roots.podmanGraph)/overlay-containers"
        guard let index = read("\(base)/containers.json") else { return [] }
        return RuntimeFiles.storageNames(index).sorted { $0.key < $1.key }.compactMap { id, name in
            // A container only created, or one that runs in the host's namespace, has no
            // bundle or no namespace of its own.
            guard let bundle = read("\(base)/\(id)/userdata/config.json").flatMap(RuntimeFiles.bundle), bundle.ownNetwork else { return nil }
            return Entry(record: ContainerRecord(runtime: .podman, id: id, name: name, sysctls: bundle.sysctls),
                         networkPath: bundle.networkPath.map(MountTable.canonical))
        }
    }

    private func crio() -> [Entry] {
        let base = "\(roots.containersRun)/overlay-containers"
        return list(base).compactMap { id in
            guard let bundle = read("\(base)/\(id)/userdata/config.json").flatMap(RuntimeFiles.bundle),
                  bundle.annotations["io.kubernetes.cri-o.ContainerType"] != nil, bundle.ownNetwork,
                  let pod = RuntimeFiles.pod(bundle.annotations) else { return nil }
            return Entry(record: ContainerRecord(runtime: .crio, id: id, name: RuntimeFiles.kubernetesName(bundle.annotations, pod: pod),
                                                 pod: pod, sysctls: bundle.sysctls),
                         networkPath: bundle.networkPath.map(MountTable.canonical))
        }
    }

    private func containerd() -> [Entry] {
        var entries: [Entry] = []
        for namespace in list(roots.containerdTasks) {
            for id in list("\(roots.containerdTasks)/\(namespace)") {
                guard let bundle = read("\(roots.containerdTasks)/\(namespace)/\(id)/config.json").flatMap(RuntimeFiles.bundle),
                      bundle.ownNetwork else { continue }
                // docker's containers (namespace `moby`) have no pod; docker's own files name them.
                if let pod = RuntimeFiles.pod(bundle.annotations) {
                    entries.append(Entry(record: ContainerRecord(runtime: .containerd, id: id,
                                                                 name: RuntimeFiles.kubernetesName(bundle.annotations, pod: pod),
                                                                 pod: pod, sysctls: bundle.sysctls),
                                         networkPath: bundle.networkPath.map(MountTable.canonical)))
                }
            }
        }
        return entries
    }

    private func docker() -> [Entry] {
        let data = read(roots.dockerConfig).flatMap(RuntimeFiles.dockerDataRoot) ?? roots.dockerData
        let base = "\(data)/containers"
        return list(base).compactMap { id in
            guard let container = read("\(base)/\(id)/config.v2.json").flatMap(RuntimeFiles.dockerContainer) else { return nil }
            let sysctls = read("\(base)/\(id)/hostconfig.json").map(RuntimeFiles.dockerSysctls) ?? [:]
            return Entry(record: ContainerRecord(runtime: .docker, id: container.id, name: container.name, sysctls: sysctls),
                         networkPath: container.sandboxKey.map(MountTable.canonical))
        }
    }
}
