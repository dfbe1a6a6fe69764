import KeepaliveModel

/// The container runtimes' records on this host (podman, CRI-O, containerd, docker), read
/// from their files (``RuntimeFiles`` says which and why), each with what links it to a
/// network namespace: the path the runtime pinned the namespace at, or else the container
/// id that a member process's cgroup path carries.
///
/// Every file is read as a ``StateFile``: never blocking (a FIFO there is refused, not
/// waited on), and a file refused is a ``StateFile/Problem`` in the ``Reading``, for the
/// daemon to report, while the other runtimes' files are read as usual.
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

    /// What one read of the runtimes' files found.
    public struct Reading: Sendable {
        /// Every container they describe.
        public var entries: [Entry] = []
        /// The files refused or not read whole, in the order met.
        public var problems: [StateFile.Problem] = []
    }

    /// Every container the runtimes' files describe now.
    public func entries() -> [Entry] { read().entries }

    /// Every container the runtimes' files describe now, and the files that were refused.
    public func read() -> Reading {
        let problems = Problems()
        let reader = Reader(directory: self, problems: problems)
        return Reading(entries: reader.podman() + reader.crio() + reader.containerd() + reader.docker(), problems: problems.list)
    }

    /// The problems met by one ``read()``.
    private final class Problems {
        var list: [StateFile.Problem] = []
    }

    /// One ``read()``: the runtimes in turn, each file's problem kept.
    private struct Reader {
        let directory: RuntimeDirectory
        let problems: Problems
        var roots: Roots { directory.roots }
        var syscalls: Syscalls { directory.syscalls }

        /// A document parsed whole, if it is there and fits (`follow`: a config whose program
        /// follows symlinks to it, as dockerd does `daemon.json`).
        private func read(_ path: String, follow: Bool = false) -> String? {
            let outcome = StateFile.text(path, follow: follow, syscalls: syscalls)
            if let problem = outcome.problem { problems.list.append(problem) }
            return outcome.value
        }

        private func list(_ directory: String) -> [String] {
            guard case .success(let names) = syscalls.readDirectory(directory) else { return [] }
            return names.filter { !$0.hasPrefix(".") }.sorted()
        }

        func podman() -> [Entry] {
            let base = "\(roots.podmanGraph)/overlay-containers"
            // Item by item: thousands of containers are read whole, however long the file.
            var names: [String: String] = [:]
            let index = StateFile.arrayItems("\(base)/containers.json", syscalls: syscalls) { item in
                if let (id, name) = RuntimeFiles.storageName(item) { names[id] = name }
            }
            if let problem = index.problem ?? index.value ?? nil { problems.list.append(problem) }
            return names.sorted { $0.key < $1.key }.compactMap { id, name in
                // A container only created, or one that runs in the host's namespace, has no
                // bundle or no namespace of its own.
                guard let bundle = read("\(base)/\(id)/userdata/config.json").flatMap(RuntimeFiles.bundle), bundle.ownNetwork else { return nil }
                return Entry(record: ContainerRecord(runtime: .podman, id: id, name: name, sysctls: bundle.sysctls),
                             networkPath: bundle.networkPath.map(MountTable.canonical))
            }
        }

        func crio() -> [Entry] {
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

        func containerd() -> [Entry] {
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

        func docker() -> [Entry] {
            let data = read(roots.dockerConfig, follow: true).flatMap(RuntimeFiles.dockerDataRoot) ?? roots.dockerData
            let base = "\(data)/containers"
            return list(base).compactMap { id in
                guard let container = read("\(base)/\(id)/config.v2.json").flatMap(RuntimeFiles.dockerContainer) else { return nil }
                // A hostconfig.json there but refused hides the container's explicit values:
                // the container is not claimed as known (its namespace is still found).
                let hostConfig = "\(base)/\(id)/hostconfig.json"
                let sysctls: [Tunable: Int]
                switch StateFile.text(hostConfig, syscalls: syscalls) {
                case .read(let text): sysctls = RuntimeFiles.dockerSysctls(text)
                case .missing: sysctls = [:]
                case .refused(let problem):
                    problems.list.append(problem)
                    return nil
                }
                return Entry(record: ContainerRecord(runtime: .docker, id: container.id, name: container.name, sysctls: sysctls),
                             networkPath: container.sandboxKey.map(MountTable.canonical))
            }
        }
    }
}
