import Foundation
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// The OS layer against the real /proc/sys of a private network namespace.
@Suite("Real /proc/sys in a private network namespace",
       .enabled(if: PrivateNetworkNamespace.unavailableReason == nil,
                Comment(rawValue: PrivateNetworkNamespace.unavailableReason ?? "")))
struct RealProcSysTests {
    /// Applies `values` to the real /proc/sys of a fresh private namespace; returns the
    /// report and what fresh descriptors read back there afterwards.
    func applyInPrivateNamespace(_ values: KeepaliveValues) throws -> (ApplyReport, KeepaliveValues) {
        try PrivateNetworkNamespace.run {
            let report = Applier.apply(values, to: SysctlTree(syscalls: .live))
            return (report, try SysctlTree(syscalls: .live).readAll())
        }
    }

    @Test func appliesServerInsideTheNamespaceOnly() throws {
        let host = HostKeepalive.snapshot()
        let (report, after) = try applyInPrivateNamespace(KeepaliveValues(time: 1800, intvl: 30, probes: 3))
        #expect(report.succeeded)
        #expect(report.before == .kernelDefaults)
        #expect(after == KeepaliveValues(time: 1800, intvl: 30, probes: 3))
        #expect(HostKeepalive.snapshot() == host)
    }

    /// The kernel itself refuses probes = 300 (a u8 since Linux 5.13) mid-apply: the
    /// time and intvl already written must be put back.
    @Test func aKernelRefusalMidApplyRollsBack() throws {
        let host = HostKeepalive.snapshot()
        let (report, after) = try applyInPrivateNamespace(KeepaliveValues(time: 1800, intvl: 30, probes: 300))
        #expect(!report.succeeded)
        #expect(report.failures.map(\.key) == [.probes])
        #expect(report.failures.first?.errno == Errno(EINVAL))
        #expect(report.restored == [.time, .intvl])
        #expect(after == .kernelDefaults)
        #expect(HostKeepalive.snapshot() == host)
    }
}
