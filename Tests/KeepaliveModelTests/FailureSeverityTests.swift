import Glibc
import KeepaliveModel
import Testing

/// The one table that says what a failed sysctl read or write leads to.
@Suite("Failure severity (pure)")
struct FailureSeverityTests {
    typealias Row = (errno: Int32?, context: FailureSeverity.Context, target: FailureSeverity.Target,
                     consequence: FailureSeverity.Consequence)

    static let rows: [Row] = [
        (EIO, .start, .own, .exit(.systemFailure)),
        (EROFS, .start, .own, .exit(.systemFailure)),   // its own namespace read-only: it cannot do its job, and says so
        (EROFS, .reload, .own, .keepLastGood),
        (EROFS, .correction, .own, .retryAtNextCheck),  // never a contest: a failed write is not another writer
        (nil, .correction, .own, .retryAtNextCheck),    // a short write or a value not kept
        (ENOENT, .check, .own, .retryAtNextCheck),
        (EPERM, .restore, .own, .report),
        (EACCES, .command, .own, .exit(.systemFailure)),
        (EROFS, .start, .managed, .leaveAlone),         // a container's read-only /proc/sys: warn once, keep running
        (EACCES, .correction, .managed, .leaveAlone),
        (ENOENT, .check, .managed, .leaveAlone),        // the namespace is gone
        (EIO, .correction, .managed, .retryAtNextCheck),
    ]

    @Test(arguments: rows.indices)
    func consequence(_ index: Int) {
        let row = Self.rows[index]
        let verdict = FailureSeverity.verdict(errno: row.errno, context: row.context, target: row.target, profile: "server")
        #expect(verdict.consequence == row.consequence, "\(row)")
        #expect(!verdict.sentence.isEmpty)
    }

    @Test func sentencesSayWhatHappensNext() {
        #expect(FailureSeverity.verdict(errno: EIO, context: .reload, profile: "server").sentence
                == "reload rejected; still enforcing profile server")
        #expect(FailureSeverity.verdict(errno: EIO, context: .correction, checkEvery: 30).sentence
                == "the drift remains; retrying at the next check (every 30s)")
    }
}
