import Foundation
import KeepaliveTestKit
import Testing

/// Reading what a ``CgroupWorld`` scenario left in its directory.
extension TemporaryDirectory {
    /// The number in file `name` (`NAME.pid`, `NAME.netns`).
    func number(_ name: String) throws -> Int {
        try #require(Int(try read(name).trimmingCharacters(in: .whitespacesAndNewlines)), "\(name)")
    }

    /// The JSON document in file `name`.
    func json(_ name: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(read(name).utf8)) as? [String: Any], "\(name)")
    }

    /// The rows of a `namespaces --json` document in file `name`, by inode.
    func namespaceRows(_ name: String) throws -> [Int: [String: Any]] {
        let rows = try json(name)["namespaces"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["inode"] as? Int ?? 0, $0) })
    }
}
