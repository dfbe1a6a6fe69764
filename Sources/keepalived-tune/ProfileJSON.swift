import KeepaliveModel

/// The JSON form of a profile shared by `list`, `show` and `status`.
struct ProfileJSON: Encodable {
    let name: String
    let description: String
    let values: KeepaliveValues
    let source: String
    /// `show` only: the file and line that set each value.
    var provenance: [Tunable: SourceLocation]?
    /// `show` only: the include chain, the profile's own file first.
    var includes: [String]?

    init(_ profile: ResolvedProfile, detailed: Bool = false) {
        name = profile.name.rawValue
        description = profile.description
        values = profile.values
        source = profile.source
        if detailed {
            provenance = profile.provenance
            includes = profile.chain
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, description, source, provenance, includes
        case time = "tcp_keepalive_time", intvl = "tcp_keepalive_intvl", probes = "tcp_keepalive_probes"
        case detection = "detection_seconds"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(description, forKey: .description)
        try container.encode(source, forKey: .source)
        try container.encode(values.time, forKey: .time)
        try container.encode(values.intvl, forKey: .intvl)
        try container.encode(values.probes, forKey: .probes)
        try container.encode(values.detectionSeconds, forKey: .detection)
        try container.encodeIfPresent(includes, forKey: .includes)
        if let provenance {
            try container.encode(ValuesJSON(provenance.mapValues(LocationJSON.init)), forKey: .provenance)
        }
    }
}

/// A `{file, line}` object.
struct LocationJSON: Encodable {
    let file: String
    let line: Int?
    init(_ location: SourceLocation) {
        file = location.file
        line = location.line
    }
}

/// An object keyed by the three sysctl short names (`tcp_keepalive_time`, ...).
struct ValuesJSON<Value: Encodable>: Encodable {
    let values: [Tunable: Value]

    init(_ values: [Tunable: Value]) { self.values = values }

    struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for key in Tunable.allCases {
            if let value = values[key] { try container.encode(value, forKey: Key(stringValue: key.rawValue)) }
        }
    }
}

extension KeepaliveValues {
    /// The values as a `[Tunable: Int]` for ``ValuesJSON``.
    var byKey: [Tunable: Int] { Dictionary(uniqueKeysWithValues: Tunable.allCases.map { ($0, self[$0]) }) }
}
