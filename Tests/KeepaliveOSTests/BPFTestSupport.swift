import Foundation
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// A scene with the keepalive hook attached, web selected, and the sockets fixture: what
/// the keepalive tests start from. Releasing it stops the fixture and detaches the hook.
final class HookedScene {
    let scene: BPFScene
    let hook: KeepaliveHook
    let sockets: LoopbackSockets
    /// web's cgroup id.
    let web: CgroupID

    /// Attaches the hook with `policy` for web.
    init(_ policy: SocketPolicy) throws {
        scene = try BPFScene()
        web = try scene.id(scene.web)
        hook = try KeepaliveHook.attach(at: scene.place, workloads: [web: policy])
        sockets = try LoopbackSockets()
    }

    /// Stops the fixture, then detaches the hook.
    deinit {
        sockets.stop()
        try? hook.detach()
    }

    /// A listener `name`, made while the fixture is in `cgroup`, with `options` set first.
    func listen(_ name: String, in cgroup: String, options: LoopbackSockets.Options = [:]) throws {
        try scene.sandbox.move(sockets.pid, to: cgroup)
        try sockets.listen(name, options: options)
    }

    /// A connection to listener `name` from a client made in `cgroup`, with `options` set first.
    func connect(_ name: String, from cgroup: String, options: LoopbackSockets.Options = [:]) throws -> LoopbackSockets.Connection {
        try scene.sandbox.move(sockets.pid, to: cgroup)
        return try sockets.connect(name, options: options)
    }
}
