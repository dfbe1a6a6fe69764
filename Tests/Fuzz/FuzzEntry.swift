// libFuzzer entry point for the pure model: config and profile parsing, include
// resolution and merging, spans, sysctl.d parsing. Built by Tests/Fuzz/run together
// with the KeepaliveModel sources (swiftc -sanitize=fuzzer,address).
//
// Besides "no crash, no hang, no sanitizer report", it checks invariants that must
// hold for any input: a profile accepted without errors has all three values in range,
// every diagnostic names the file it is about, and resolution always terminates.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let source = SourceText(path: "/fuzz/p.conf", bytes: bytes)

    // 1. The input as a profile that may include itself or others: every name resolves to
    //    the same text, one layer down each time, so chains and cycles are explored.
    let lookup: ProfileLookup = { name, after in
        let layer = (after ?? -1) + 1
        guard layer < 20 else { return .notFound }
        return .found(ProfileFile(layer: layer, source: SourceText(path: "/fuzz/l\(layer)/\(name).conf", bytes: bytes)))
    }
    let (profile, diagnostics) = ProfileResolver.resolve(ProfileName("p")!, lookup: lookup)
    if let profile {
        precondition(!diagnostics.hasErrors, "a profile came with errors")
        for key in Tunable.allCases {
            precondition(key.spec.range.contains(profile.values[key]), "accepted an out-of-range \(key)")
            precondition(profile.provenance[key] != nil, "no provenance for \(key)")
        }
    } else {
        precondition(diagnostics.hasErrors, "a profile was refused without an error")
    }
    for diagnostic in diagnostics {
        precondition(diagnostic.location.file.hasPrefix("/fuzz/"), "diagnostic about an unknown file")
    }

    // 2. The input as the main config plus itself as a drop-in.
    let (config, configDiagnostics) = DaemonConfig.parse([source, SourceText(path: "/fuzz/d.conf", bytes: bytes)])
    if !configDiagnostics.hasErrors {
        precondition(DaemonConfig.checkIntervalRange.contains(config.checkIntervalSeconds))
        for (key, value) in config.overrides { precondition(key.spec.range.contains(value.value)) }
    }

    // 3. Every line as a span and a count, and the file as sysctl.d.
    if case .success(let lines) = source.lines() {
        for line in lines.prefix(64) {
            _ = TimeSpan.parseSeconds(line.text)
            _ = TimeSpan.parseInteger(line.text)
            _ = ProfileName.problem(with: line.text)
        }
    }
    _ = SysctlConf.assignments(in: source)
    return 0
}
