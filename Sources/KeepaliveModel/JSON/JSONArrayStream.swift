/// A JSON array read in chunks, one item at a time: podman's `containers.json` lists every
/// container, thousands of them, and is read whole without holding the whole text or its
/// whole parse, however long it is. Pure: the OS layer feeds the bytes as it reads them.
///
/// The array's structure (brackets, commas, strings and their escapes) is followed byte by
/// byte; each item's text is parsed alone (``JSONValue/parse(_:)``, with its depth bound).
/// An item longer than ``itemLimit`` is skipped and counted (``oversized``); an item that is
/// not valid JSON is skipped. What was handed out stays handed out if the text turns out
/// broken later (``finish()`` says whether it was one whole array).
public struct JSONArrayStream: Sendable {
    /// The most bytes of one item kept for parsing.
    public let itemLimit: Int
    /// Items skipped for being longer than ``itemLimit``.
    public private(set) var oversized = 0

    private enum Place: Sendable { case beforeArray, beforeItem, inItem, afterArray, broken }
    private var place = Place.beforeArray
    /// Whether an item must come next (after `,`), rather than `]` being allowed.
    private var itemRequired = false
    private var item: [UInt8] = []
    private var itemTooLong = false
    private var depth = 0
    private var inString = false
    private var escaped = false

    /// A stream that keeps items of up to `itemLimit` bytes.
    public init(itemLimit: Int) { self.itemLimit = itemLimit }

    /// Follows `bytes`, handing each whole item that parses to `each`, in order.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ each: (JSONValue) -> Void) {
        for byte in bytes {
            switch place {
            case .beforeArray:
                if byte == UInt8(ascii: "[") { place = .beforeItem } else if !Self.isBlank(byte) { place = .broken }
            case .beforeItem:
                if Self.isBlank(byte) { continue }
                if byte == UInt8(ascii: "]") && !itemRequired { place = .afterArray; continue }
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") { place = .broken; continue }
                place = .inItem
                take(byte, each)
            case .inItem:
                take(byte, each)
            case .afterArray:
                if !Self.isBlank(byte) { place = .broken }
            case .broken:
                return
            }
        }
    }

    /// Whether the text fed was one whole array, every item closed.
    public func finish() -> Bool { place == .afterArray }

    /// One byte of an item: kept, and followed to see where the item ends (a `,` or the
    /// array's `]` outside any string and nesting).
    private mutating func take(_ byte: UInt8, _ each: (JSONValue) -> Void) {
        if inString {
            if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
        } else {
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}") where depth > 0, UInt8(ascii: "]") where depth > 0: depth -= 1
            case UInt8(ascii: ",") where depth == 0, UInt8(ascii: "]") where depth == 0:
                end(each)
                if byte == UInt8(ascii: ",") {
                    place = .beforeItem
                    itemRequired = true
                } else {
                    place = .afterArray
                }
                return
            default: break
            }
        }
        if item.count < itemLimit { item.append(byte) } else { itemTooLong = true }
    }

    /// The item just closed: parsed and handed out, or counted as too long.
    private mutating func end(_ each: (JSONValue) -> Void) {
        if itemTooLong {
            oversized += 1
        } else if let value = JSONValue.parse(String(decoding: item, as: UTF8.self)) {
            each(value)
        }
        item.removeAll(keepingCapacity: true)
        itemTooLong = false
        itemRequired = false
        depth = 0
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
