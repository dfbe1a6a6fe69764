import KeepaliveModel

/// The JSON forms shared by `list`, `show` and `status`.
enum ProfileJSON {
    /// A profile: name, description, source, the three values and the detection time;
    /// `detailed` (`show`) adds the include chain and the file and line behind each value.
    static func profile(_ profile: ResolvedProfile, detailed: Bool = false) -> [String: JSONValue?] {
        var members: [String: JSONValue?] = [
            "name": .string(profile.name.rawValue),
            "description": .string(profile.description),
            "source": .string(profile.source),
            "detection_seconds": .int(profile.values.detectionSeconds),
        ]
        for key in Tunable.allCases { members[key.rawValue] = .int(profile.values[key]) }
        if detailed {
            members["includes"] = .array(profile.chain.map(JSONValue.string))
            members["provenance"] = byKey { key in profile.provenance[key].map(location) }
        }
        return members
    }

    /// An object keyed by the three sysctl short names (`tcp_keepalive_time`, ...).
    static func byKey(_ value: (Tunable) -> JSONValue?) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: Tunable.allCases.map { ($0.rawValue, value($0)) }))
    }

    /// The three values keyed by short name.
    static func values(_ values: KeepaliveValues) -> JSONValue { byKey { .int(values[$0]) } }

    /// A `{file, line}` object.
    static func location(_ location: SourceLocation) -> JSONValue {
        .object(["file": .string(location.file), "line": location.line.json])
    }
}
