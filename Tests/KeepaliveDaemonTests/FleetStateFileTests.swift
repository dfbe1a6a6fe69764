import Foundation
@testable import KeepaliveDaemon
import KeepaliveModel
import KeepaliveOS
import KeepaliveTestKit
import Testing

/// The fleet's scans over runtime files that are not plain files (issue 32, finding 6), in
/// process: ``FleetTests/Fixture``'s pins and fake namespaces, with a FIFO at podman's
/// `containers.json` in the fixture's runtime root. The scan runs on the daemon's one loop,
/// so a blocked open would stop everything; here the tick runs on a thread of its own, and
/// is let go through the FIFO's other end if it blocks.
@Suite("Fleet over a FIFO at a runtime file (in-process)")
struct FleetStateFileTests {
    /// The fixture, handed to the tick's thread.
    final class Held: @unchecked Sendable {
        let fixture: FleetTests.Fixture
        init(_ fixture: FleetTests.Fixture) { self.fixture = fixture }
    }

    static let index = "var/lib/containers/storage/overlay-containers/containers.json"

    @Test func aFIFOAtContainersJSONDoesNotStopTheLoopAndIsReportedOnce() throws {
        let fixture = try FleetTests.Fixture(pins: ["kt-web-1"])
        try fixture.runtime.makeDirectory("var/lib/containers/storage/overlay-containers")
        let fifo = try FIFO(at: fixture.runtime.url(Self.index))
        let held = Held(fixture)
        let first = fifo.run { held.fixture.fleet.tick(at: held.fixture.at(0)) }
        #expect(first.endedAlone, "the fleet's scan blocked on the FIFO at containers.json: the daemon's loop would hang")
        #expect(try fixture.roots["kt-web-1"]!.compact() == "600/10/5", "the pinned namespace is adopted all the same")
        let said = try #require(fixture.entry("namespaces-limited"), "\(fixture.events)")
        #expect(said["FILE"] == fifo.path)
        #expect(fixture.logs.entries.last { $0.metadata["EVENT"] == "namespaces-limited" }?.level == .warning)

        // Said once while it lasts: the next scans refuse it again without a word.
        fixture.fleet.lookSoon(at: fixture.at(1))
        #expect(fifo.run { held.fixture.fleet.tick(at: held.fixture.at(1)) }.endedAlone)
        fixture.fleet.rescanSoon(at: fixture.at(2))
        #expect(fifo.run { held.fixture.fleet.tick(at: held.fixture.at(2)) }.endedAlone)
        #expect(fixture.events.filter { $0 == "namespaces-limited" }.count == 1, "\(fixture.events)")

        // Gone, then back: said again.
        try FileManager.default.removeItem(atPath: fifo.path)
        fixture.fleet.lookSoon(at: fixture.at(3))
        _ = fixture.fleet.tick(at: fixture.at(3))
        let again = try FIFO(at: fixture.runtime.url(Self.index))
        fixture.fleet.lookSoon(at: fixture.at(4))
        #expect(again.run { held.fixture.fleet.tick(at: held.fixture.at(4)) }.endedAlone)
        #expect(fixture.events.filter { $0 == "namespaces-limited" }.count == 2, "\(fixture.events)")
    }
}
