import KeepaliveModel
import Testing

/// ``FleetCapacity``: how many namespaces fit under a descriptor limit, and who keeps a
/// seat past it (issue 32, finding 7).
@Suite("Fleet capacity under the descriptor limit")
struct FleetCapacityTests {
    @Test(arguments: [(0, 0), (64, 0), (100, 11), (1024, 309), (4096, 1301), (524_288, 169_280)])
    func namespacesFitInWhatTheHeadroomLeaves(limit: Int, namespaces: Int) {
        #expect(FleetCapacity(limit: limit).namespaces == namespaces)
    }

    typealias Seat = FleetCapacity.Seat

    @Test func withRoomEveryCandidateIsAdmittedRuleMatchesFirstThenByInode() {
        let admission = FleetCapacity(limit: 1024).admit([(30, .fallback), (20, .rule), (10, .fallback)], members: [])
        #expect(admission == .init(admitted: [20, 10, 30], evicted: [], left: []))
    }

    @Test func pastTheLimitRuleMatchesWinTheLastSeats() {
        // 11 seats, 9 taken by fallbacks.
        let members = (1...9).map { Seat(inode: UInt64(100 + $0), claim: .fallback, order: $0) }
        let admission = FleetCapacity(limit: 100).admit([(5, .fallback), (7, .rule), (6, .rule), (4, .fallback)], members: members)
        #expect(admission.admitted == [6, 7])
        #expect(admission.evicted.isEmpty)
        #expect(admission.left == [4, 5])
    }

    @Test func aRuleMatchTakesTheNewestFallbacksSeatAndNeverARules() {
        let members = [Seat(inode: 1, claim: .rule, order: 1)] + (2...11).map { Seat(inode: UInt64($0), claim: .fallback, order: $0) }
        let admission = FleetCapacity(limit: 100).admit([(50, .rule), (51, .rule), (52, .fallback)], members: members)
        #expect(admission.admitted == [50, 51])
        #expect(admission.evicted == [11, 10], "the newest fallbacks make way")
        #expect(admission.left == [52], "a fallback never takes another's seat")
    }

    @Test func ruleMatchesOnlyPastEveryFallbackStayOut() {
        let members = (1...11).map { Seat(inode: UInt64($0), claim: .rule, order: $0) }
        let admission = FleetCapacity(limit: 100).admit([(50, .rule)], members: members)
        #expect(admission == .init(admitted: [], evicted: [], left: [50]))
    }
}
