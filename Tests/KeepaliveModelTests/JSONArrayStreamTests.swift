import KeepaliveModel
import Testing

/// ``JSONArrayStream``: a JSON array read item by item, fed in chunks split anywhere
/// (podman's `containers.json`, read whole however long it is; issue 32, finding 10).
@Suite("JSON array, item by item")
struct JSONArrayStreamTests {
    /// The items a text gives, fed in chunks of `chunk` bytes, and whether it was one whole
    /// array.
    func items(_ text: String, chunk: Int = .max, itemLimit: Int = 1 << 20) -> (items: [JSONValue], whole: Bool, oversized: Int) {
        var stream = JSONArrayStream(itemLimit: itemLimit)
        var items: [JSONValue] = []
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + min(chunk, bytes.count))
            bytes[start..<end].withUnsafeBytes { stream.feed($0) { items.append($0) } }
            start = end
        }
        return (items, stream.finish(), stream.oversized)
    }

    static let nested = #"[{"id":"a","names":["x","y"],"m":"{\"k\":[1,2]}"} , {"id":"b","deep":{"l":[1,[2,3],{"z":"]"}]}},3,"s,]"]"#

    @Test(arguments: [1, 2, 3, 7, 64, Int.max])
    func itemsComeWholeWhereverTheChunksSplit(chunk: Int) {
        let read = items(Self.nested, chunk: chunk)
        #expect(read.whole)
        #expect(read.items.count == 4)
        #expect(read.items[0]["names"]?.items.map(\.string) == ["x", "y"])
        #expect(read.items[0]["m"]?.string == #"{"k":[1,2]}"#)
        #expect(read.items[1]["deep"]?["l"]?.items.last?["z"]?.string == "]")
        #expect(read.items[3].string == "s,]")
    }

    @Test(arguments: [
        ("[]", 0, true), (" [ ] ", 0, true), ("[1,2]", 2, true),
        ("[,1]", 0, false), ("[1,]", 1, false), ("{}", 0, false), ("[1", 0, false), ("", 0, false),
        ("[1 2,3]", 1, true),   // an item that is not JSON is skipped, the rest read
    ] as [(String, Int, Bool)])
    func theArraysShapeIsFollowed(text: String, count: Int, whole: Bool) {
        let read = items(text)
        #expect(read.items.count == count)
        #expect(read.whole == whole)
    }

    @Test func anItemPastTheLimitIsSkippedAndCounted() {
        let read = items(#"["0123456789abcdef",{"id":"short"},"0123456789abcdef0"]"#, chunk: 5, itemLimit: 18)
        #expect(read.items.map { $0.string ?? $0["id"]?.string } == ["0123456789abcdef", "short"])
        #expect(read.oversized == 1)
        #expect(read.whole)
    }
}
