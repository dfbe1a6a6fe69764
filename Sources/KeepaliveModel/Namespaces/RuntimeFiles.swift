/// What the container runtimes write on disk about their containers, read into
/// ``ContainerRecord``s. Pure: the OS layer hands over the files' text.
///
/// The layouts, as the runtimes' sources write them:
/// - **podman** (containers/podman, `libpod/container_internal.go`, and containers/storage,
///   `containers.go`): `GRAPHROOT/overlay-containers/containers.json` lists each container's
///   `id` and `names`; the OCI bundle is `GRAPHROOT/overlay-containers/ID/userdata/config.json`.
/// - **CRI-O** (cri-o/cri-o, `server/sandbox_run_linux.go`): the bundle is
///   `RUNROOT/overlay-containers/ID/userdata/config.json`, annotated with
///   `io.kubernetes.cri-o.ContainerType`, `…Namespace`, `…KubeName` and `…Labels` (the
///   kubelet's labels as JSON, with `io.kubernetes.pod.namespace` and `io.kubernetes.pod.name`).
/// - **containerd** (containerd/containerd, `core/runtime/v2/bundle.go` and
///   `internal/cri/annotations/annotations.go`): the bundle is
///   `/run/containerd/io.containerd.runtime.v2.task/NAMESPACE/ID/config.json`; the CRI's
///   containers (namespace `k8s.io`) carry `io.kubernetes.cri.container-type`,
///   `io.kubernetes.cri.sandbox-namespace`, `io.kubernetes.cri.sandbox-name` and
///   `io.kubernetes.cri.container-name`; docker's (namespace `moby`) carry none, so docker's
///   own files name them.
/// - **docker** (moby/moby, `container/container.go`: `configFileName = "config.v2.json"`):
///   `DATAROOT/containers/ID/config.v2.json` holds `ID`, `Name` (with a leading `/`),
///   `State.Running` and `NetworkSettings.SandboxKey`, the namespace's path under
///   `/var/run/docker/netns`; `hostconfig.json` beside it holds `Sysctls`. `DATAROOT` is
///   `/var/lib/docker`, or `data-root` in `/etc/docker/daemon.json` (moby/moby,
///   `cmd/dockerd/config.go`), which dockerd reads by default too.
public enum RuntimeFiles {
    /// One OCI bundle's `config.json`: what a runtime was told to make.
    public struct Bundle: Sendable, Hashable {
        /// `annotations`.
        public var annotations: [String: String] = [:]
        /// The keepalive keys of `linux.sysctl`.
        public var sysctls: [Tunable: Int] = [:]
        /// The path of the network namespace joined (`linux.namespaces`, type `network`), if
        /// the runtime pinned one; `nil` when the container makes its own or shares the host's.
        public var networkPath: String?
        /// Whether the config asks for a network namespace at all (else it shares the host's).
        public var ownNetwork = false
    }

    /// Parses an OCI runtime `config.json`; `nil` if it is not a JSON object.
    public static func bundle(_ text: String) -> Bundle? {
        guard let json = JSONValue.parse(text), case .object = json else { return nil }
        var bundle = Bundle()
        for (key, value) in json["annotations"]?.members ?? [:] { bundle.annotations[key] = value.string }
        for (key, value) in json["linux"]?["sysctl"]?.members ?? [:] {
            if let tunable = Tunable(sysctlKey: key), let number = value.string.flatMap({ Int($0.trimmed) }) {
                bundle.sysctls[tunable] = number
            }
        }
        for namespace in json["linux"]?["namespaces"]?.items ?? [] where namespace["type"]?.string == "network" {
            bundle.ownNetwork = true
            bundle.networkPath = namespace["path"]?.string
        }
        return bundle
    }

    /// containers/storage's `containers.json`: each container id and its first name.
    public static func storageNames(_ text: String) -> [String: String] {
        var names: [String: String] = [:]
        for entry in JSONValue.parse(text)?.items ?? [] {
            if let (id, name) = storageName(entry) { names[id] = name }
        }
        return names
    }

    /// One item of `containers.json` (read item by item: ``JSONArrayStream``): the
    /// container's id and first name, if it has both.
    public static func storageName(_ entry: JSONValue) -> (id: String, name: String)? {
        guard let id = entry["id"]?.string, let name = entry["names"]?.items.first?.string else { return nil }
        return (id, name)
    }

    /// docker's `config.v2.json` of a running container: the id, the name without its
    /// leading `/`, and the sandbox's namespace path; `nil` for a stopped one (its sandbox
    /// is gone) or what is not such a file.
    public static func dockerContainer(_ text: String) -> (id: String, name: String, sandboxKey: String?)? {
        guard let json = JSONValue.parse(text), let id = json["ID"]?.string, let name = json["Name"]?.string,
              json["State"]?["Running"] == .bool(true) else { return nil }
        let bare = name.hasPrefix("/") ? String(name.dropFirst()) : name
        let key = json["NetworkSettings"]?["SandboxKey"]?.string
        return (id, bare, key?.isEmpty == false ? key : nil)
    }

    /// The `data-root` that docker's `daemon.json` sets (`graph`, its name before docker
    /// 17.05, too); `nil` when it sets none, and docker uses `/var/lib/docker`.
    public static func dockerDataRoot(_ text: String) -> String? {
        guard let json = JSONValue.parse(text) else { return nil }
        return (json["data-root"] ?? json["graph"])?.string.flatMap { $0.hasPrefix("/") ? $0 : nil }
    }

    /// docker's `hostconfig.json`: the keepalive keys of `Sysctls` (`docker run --sysctl`).
    public static func dockerSysctls(_ text: String) -> [Tunable: Int] {
        var sysctls: [Tunable: Int] = [:]
        for (key, value) in JSONValue.parse(text)?["Sysctls"]?.members ?? [:] {
            if let tunable = Tunable(sysctlKey: key), let number = value.string.flatMap({ Int($0.trimmed) }) { sysctls[tunable] = number }
        }
        return sysctls
    }

    /// The Kubernetes pod (`NAMESPACE/POD`) a bundle belongs to, from containerd's CRI
    /// or CRI-O's annotations; `nil` for a container no kubelet asked for.
    public static func pod(_ annotations: [String: String]) -> String? {
        if let namespace = annotations["io.kubernetes.cri.sandbox-namespace"],
           let name = annotations["io.kubernetes.cri.sandbox-name"] {
            return "\(namespace)/\(name)"
        }
        if let labels = annotations["io.kubernetes.cri-o.Labels"].flatMap(JSONValue.parse),
           let namespace = labels["io.kubernetes.pod.namespace"]?.string, let name = labels["io.kubernetes.pod.name"]?.string {
            return "\(namespace)/\(name)"
        }
        if annotations["io.kubernetes.cri-o.ContainerType"] == "sandbox",
           let namespace = annotations["io.kubernetes.cri-o.Namespace"], let name = annotations["io.kubernetes.cri-o.KubeName"] {
            return "\(namespace)/\(name)"
        }
        return nil
    }

    /// A Kubernetes container's own name (`io.kubernetes.cri.container-name`,
    /// `io.kubernetes.cri-o.ContainerName`), or its pod's for a sandbox.
    public static func kubernetesName(_ annotations: [String: String], pod: String) -> String {
        annotations["io.kubernetes.cri.container-name"] ?? annotations["io.kubernetes.cri-o.ContainerName"]
            ?? String(pod.split(separator: "/").last ?? Substring(pod))
    }
}
