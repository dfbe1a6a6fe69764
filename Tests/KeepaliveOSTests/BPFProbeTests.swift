import CTestCapabilities
import Foundation
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// The one fallback story: the probe answers "available" or names what is missing, and an
/// attach that cannot happen fails with the same reason and leaves nothing behind. The
/// EPERM cases run the real load on a thread whose effective capabilities were dropped
/// (capabilities are per thread), so the rest of the test process keeps its own.
@Suite("BPF probe: available, or what is missing", .serialized, BPFTestGate.trait)
struct BPFProbeTests {
    /// Runs `body` on a new thread whose effective set lacks `dropped`; its result.
    static func withoutCapabilities<T>(_ dropped: [Int], _ body: @escaping @Sendable () -> T) throws -> T {
        let mask = dropped.reduce(UInt64(0)) { $0 | 1 << UInt64($1) }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<T, POSIXError>?
        let thread = Thread {
            if kt_drop_effective_capabilities(mask) != 0 {
                result = .failure(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EPERM))
            } else {
                result = .success(body())
            }
            done.signal()
        }
        thread.start()
        done.wait()
        return try result!.get()
    }

    static let sysAdmin = 21, netAdmin = 12, perfmon = 38, bpf = 39

    /// As root on this kernel, both programs load; the probe leaves nothing behind.
    @Test(arguments: PinLayout.Hook.allCases)
    func bothHooksAreAvailableHere(_ hook: PinLayout.Hook) throws {
        let scene = try BPFScene()
        #expect(BPFHooks.probe(hook, at: scene.place) == nil)
        #expect(scene.sandbox.pinnedFiles().isEmpty, "a probe pins nothing")
        #expect(try scene.attached(scene.hooked).isEmpty, "and attaches nothing")
    }

    /// A library that cannot be opened is named in the reason.
    @Test func withoutLibbpfTheReasonNamesTheLibrary() {
        let reason = BPFHooks.probe(.keepalive, at: BPFPlace(cgroup: "/"), soname: "libbpf.so.1-kt-absent")
        guard case .noLibbpf(let detail) = reason else {
            Issue.record("\(String(describing: reason))")
            return
        }
        #expect(detail.contains("libbpf.so.1-kt-absent"))
    }

    /// A pin directory on another file system is refused before anything is made.
    @Test func aPinDirectoryOffBPFFSIsNamed() throws {
        let scene = try BPFScene()
        let directory = try TemporaryDirectory("kt-bpf-pins")
        let pins = directory.path + "/keepalived-tune"
        let place = BPFPlace(cgroup: scene.hooked, pins: PinLayout(directory: pins))
        #expect(BPFHooks.probe(.keepalive, at: place) == .noBPFFilesystem(path: pins))
        #expect(throws: BPFError.self) { try KeepaliveHook.attach(at: place, workloads: [:]) }
        #expect(!FileManager.default.fileExists(atPath: pins), "nothing made there")
    }

    /// A cgroup directory that is no cgroup2 is refused, by the probe and by attach.
    @Test func aCgroupDirectoryOffCgroup2IsNamed() throws {
        let scene = try BPFScene()
        let directory = try TemporaryDirectory("kt-bpf-cgroup")
        let place = BPFPlace(cgroup: directory.path, pins: scene.place.pins)
        #expect(BPFHooks.probe(.sysctl, at: place) == .noCgroup2(path: directory.path))
        do {
            _ = try KeepaliveHook.attach(at: place, workloads: [:])
            Issue.record("attached to a directory that is no cgroup")
        } catch {
            #expect(error.unavailable == .noCgroup2(path: directory.path))
        }
    }

    /// Without CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON (and CAP_SYS_ADMIN), the reason names all three.
    @Test(arguments: PinLayout.Hook.allCases)
    func withoutPrivilegesTheMissingCapabilitiesAreNamed(_ hook: PinLayout.Hook) throws {
        let scene = try BPFScene()
        let place = scene.place
        let reason = try Self.withoutCapabilities([Self.sysAdmin, Self.netAdmin, Self.perfmon, Self.bpf]) {
            BPFHooks.probe(hook, at: place)
        }
        #expect(reason == .notPermitted(missing: [.bpf, .netAdmin, .perfmon]))
    }

    /// With CAP_BPF and CAP_NET_ADMIN only, attach fails naming CAP_PERFMON and leaves no pin.
    @Test func withoutCapPerfmonTheKeepaliveHookSaysSoAndLeavesNothing() throws {
        let scene = try BPFScene()
        let place = scene.place, web = try scene.id(scene.web)
        let reason = try Self.withoutCapabilities([Self.sysAdmin, Self.perfmon]) { () -> BPFUnavailable? in
            do throws(BPFError) {
                _ = try KeepaliveHook.attach(at: place, workloads: [web: KeepaliveHookTests.web])
                return nil
            } catch {
                return error.unavailable
            }
        }
        #expect(reason == .notPermitted(missing: [.perfmon]), "its BTF reads of the socket need CAP_PERFMON")
        #expect(scene.sandbox.pinnedFiles().isEmpty)
        #expect(try scene.attached(scene.hooked).isEmpty)
    }
}
