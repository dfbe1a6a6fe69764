import KeepaliveModel
import Testing

/// The instant `seconds` after an arbitrary start.
func at(_ seconds: Int) -> Instant { Instant(microseconds: 1_000_000_000) + .seconds(seconds) }

@Suite("Contest back-off (pure)")
struct ContestTrackerTests {
    @Test func sixthResetWithinTheWindowIsContestedThenHeldOffThenResumed() {
        var tracker = ContestTracker(limit: 5, window: .seconds(60), backoff: .seconds(300))
        for second in 0..<5 {
            #expect(tracker.drifted(.time, at: at(second)) == .correct)
            tracker.corrected(.time, at: at(second))
        }
        #expect(tracker.drifted(.time, at: at(10)) == .contested(resets: 6))
        #expect(tracker.heldOff(at: at(11)) == [.time])
        #expect(tracker.nextResume == at(310))
        #expect(tracker.drifted(.time, at: at(200)) == .holdOff)
        #expect(tracker.drifted(.intvl, at: at(200)) == .correct, "other keys are unaffected")
        #expect(tracker.endBackOffs(at: at(309)).isEmpty)
        #expect(tracker.endBackOffs(at: at(310)) == [.time])
        #expect(tracker.nextResume == nil)
        #expect(tracker.drifted(.time, at: at(311)) == .correct, "resumes after the back-off")
        #expect(tracker.heldOff(at: at(311)).isEmpty)
    }

    @Test func correctionsSpreadBeyondTheWindowAreNotAContest() {
        var tracker = ContestTracker(limit: 5, window: .seconds(60), backoff: .seconds(300))
        for minute in 0..<20 {
            #expect(tracker.drifted(.probes, at: at(minute * 15)) == .correct)
            tracker.corrected(.probes, at: at(minute * 15))
        }
    }

    @Test func correctionsThatFailedDoNotCount() {
        var tracker = ContestTracker(limit: 5, window: .seconds(60), backoff: .seconds(300))
        for second in 0..<50 { #expect(tracker.drifted(.time, at: at(second)) == .correct, "never recorded as corrected") }
    }
}
