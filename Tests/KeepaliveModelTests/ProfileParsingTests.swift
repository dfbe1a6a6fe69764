import KeepaliveModel
import Testing

/// One malformed (or merely odd) profile and exactly what must be reported about it.
struct ProfileCase: CustomTestStringConvertible, Sendable {
    let label: String
    let text: String
    let expected: [Expected]
    var testDescription: String { label }

    struct Expected: Equatable, Sendable, CustomStringConvertible {
        let severity: Diagnostic.Severity
        let code: Diagnostic.Code
        let line: Int?
        var description: String { "\(severity) \(code) at line \(line.map(String.init) ?? "-")" }

        static func error(_ code: Diagnostic.Code, _ line: Int?) -> Expected { Expected(severity: .error, code: code, line: line) }
        static func warning(_ code: Diagnostic.Code, _ line: Int?) -> Expected { Expected(severity: .warning, code: code, line: line) }
    }
}

@Suite("Profile files: syntax, keys and values")
struct ProfileParsingTests {
    static let valid = """
        [profile]
        description = test
        [sysctl]
        net.ipv4.tcp_keepalive_time = 1800
        net.ipv4.tcp_keepalive_intvl = 30
        net.ipv4.tcp_keepalive_probes = 3
        """

    static let cases: [ProfileCase] = [
        .init(label: "valid", text: valid, expected: []),
        .init(label: "comments and inline comments",
              text: "# c\n; c\n[profile]   # c\ndescription = d ; c\n[sysctl]\nnet.ipv4.tcp_keepalive_time = 30min # c\nnet.ipv4.tcp_keepalive_intvl=30\nnet.ipv4.tcp_keepalive_probes = 3", expected: []),
        .init(label: "unclosed section", text: "[profile\ndescription = x", expected: [.error(.brokenSection, 1)]),
        .init(label: "empty section", text: "[]\n", expected: [.error(.brokenSection, 1)]),
        .init(label: "unknown section", text: "[sysctls]\nnet.ipv4.tcp_keepalive_time = 5", expected: [.error(.unknownSection, 1)]),
        .init(label: "key without =", text: "[sysctl]\nnet.ipv4.tcp_keepalive_time 1800", expected: [.error(.missingEquals, 2)]),
        .init(label: "empty key", text: "[sysctl]\n = 5", expected: [.error(.emptyKey, 2)]),
        .init(label: "key before any section", text: "description = x\n[profile]", expected: [.error(.keyOutsideSection, 1)]),
        .init(label: "unknown key", text: "[sysctl]\n\nnet.ipv4.tcp_keepalive_intervall = 30", expected: [.error(.unknownKey, 3)]),
        .init(label: "unknown profile key", text: "[profile]\ndescripton = x", expected: [.error(.unknownKey, 2)]),
        .init(label: "empty value", text: "[sysctl]\nnet.ipv4.tcp_keepalive_time =", expected: [.error(.emptyValue, 2)]),
        .init(label: "not a number", text: "[sysctl]\nnet.ipv4.tcp_keepalive_probes = many", expected: [.error(.notANumber, 2)]),
        .init(label: "signed", text: "[sysctl]\nnet.ipv4.tcp_keepalive_probes = +3", expected: [.error(.notANumber, 2)]),
        .init(label: "hex", text: "[sysctl]\nnet.ipv4.tcp_keepalive_time = 0x700", expected: [.error(.notANumber, 2)]),
        .init(label: "bad span", text: "[sysctl]\nnet.ipv4.tcp_keepalive_time = 10 parsecs", expected: [.error(.notANumber, 2)]),
        .init(label: "span on a count", text: "[sysctl]\nnet.ipv4.tcp_keepalive_probes = 3s", expected: [.error(.notANumber, 2)]),
        .init(label: "zero", text: "[sysctl]\nnet.ipv4.tcp_keepalive_time = 0", expected: [.error(.outOfRange, 2)]),
        .init(label: "over 32767", text: "[sysctl]\nnet.ipv4.tcp_keepalive_intvl = 32768", expected: [.error(.outOfRange, 2)]),
        .init(label: "span out of range", text: "[sysctl]\nnet.ipv4.tcp_keepalive_time = 10h", expected: [.error(.outOfRange, 2)]),
        .init(label: "probes over 127", text: "[sysctl]\nnet.ipv4.tcp_keepalive_probes = 128", expected: [.error(.outOfRange, 2)]),
        .init(label: "overflow past 2^63", text: "[sysctl]\nnet.ipv4.tcp_keepalive_probes = 99999999999999999999", expected: [.error(.outOfRange, 2)]),
        .init(label: "bad include name", text: "[profile]\ninclude = ../etc/passwd", expected: [.error(.invalidProfileName, 2)]),
        .init(label: "repeated key", text: valid + "\nnet.ipv4.tcp_keepalive_time = 900", expected: [.warning(.duplicateKey, 7)]),
        .init(label: "keys under a broken header are not blamed on the previous section",
              text: "[profile]\n[sysctl\nnet.ipv4.tcp_keepalive_time = 1", expected: [.error(.brokenSection, 2)]),
        .init(label: "several errors are all reported",
              text: "[sysctl]\nnet.ipv4.tcp_keepalive_time = 0\nnet.ipv4.tcp_keepalive_probes = x\nbogus", expected: [
                .error(.outOfRange, 2), .error(.notANumber, 3), .error(.missingEquals, 4)]),
        .init(label: "NUL byte", text: "[profile]\ndescription = a\0b", expected: [.error(.nulByte, 2)]),
    ]

    @Test(arguments: cases)
    func diagnostics(of profileCase: ProfileCase) {
        let source = SourceText(path: "/p/x.conf", text: profileCase.text)
        let (_, diagnostics) = ProfileDocument.parse(source, name: ProfileName("x")!)
        let found = diagnostics.map { ProfileCase.Expected(severity: $0.severity, code: $0.code, line: $0.location.line) }
        #expect(found == profileCase.expected, "\(diagnostics)")
        #expect(diagnostics.allSatisfy { $0.location.file == "/p/x.conf" })
    }

    @Test func repeatedKeyWarningNamesBothLinesAndLastWins() {
        let source = SourceText(path: "/p/x.conf", text: Self.valid + "\nnet.ipv4.tcp_keepalive_time = 900")
        let (document, diagnostics) = ProfileDocument.parse(source, name: ProfileName("x")!)
        #expect(document.settings[.time] == Located(900, at: SourceLocation(file: "/p/x.conf", line: 7)))
        #expect(diagnostics.first?.message.contains("line (7) wins over line 4") == true)
    }

    @Test func unknownKeySuggestsTheClosestOne() {
        let source = SourceText(path: "/p/x.conf", text: "[sysctl]\nnet.ipv4.tcp_keepalive_intervall = 30")
        let diagnostic = ProfileDocument.parse(source, name: ProfileName("x")!).1.first
        #expect(diagnostic?.description == "/p/x.conf:2: error: unknown key 'net.ipv4.tcp_keepalive_intervall' in [sysctl]; did you mean 'net.ipv4.tcp_keepalive_intvl'? [unknown-key]")
    }

    @Test func slashSpellingAndSpansAreAccepted() {
        let source = SourceText(path: "p", text: "[sysctl]\nnet/ipv4/tcp_keepalive_time = 1h 30min")
        let (document, diagnostics) = ProfileDocument.parse(source, name: ProfileName("x")!)
        #expect(diagnostics.isEmpty)
        #expect(document.settings[.time]?.value == 5400)
    }
}

@Suite("Whole-file checks")
struct SourceTextTests {
    func firstDiagnostic(_ bytes: [UInt8], totalSize: Int? = nil) -> Diagnostic? {
        IniDocument(SourceText(path: "f.conf", bytes: bytes, totalSize: totalSize)).diagnostics.first
    }

    @Test func tooLargeNamesTheLineWhereTheLimitIsCrossed() {
        let line = Array("net.ipv4.tcp_keepalive_time = 1\n".utf8)   // 32 bytes
        let bytes = Array(Array(repeating: line, count: 2049).joined())
        let diagnostic = firstDiagnostic(bytes)
        #expect(diagnostic?.code == .fileTooLarge)
        #expect(diagnostic?.location.line == 2049)
        #expect(firstDiagnostic(Array(repeating: 0x0A, count: 10), totalSize: 10 * 1024 * 1024)?.code == .fileTooLarge)
        #expect(firstDiagnostic(Array(Array(repeating: line, count: 2048).joined())) == nil)
    }

    @Test func invalidUTF8NamesItsLine() {
        let diagnostic = firstDiagnostic(Array("[profile]\ndescription = ".utf8) + [0xC3, 0x28] + [0x0A])
        #expect(diagnostic?.code == .notUTF8)
        #expect(diagnostic?.location.line == 2)
    }

    @Test func byteOrderMarkAndCRLFAreAccepted() {
        let text = "\u{FEFF}[profile]\r\ndescription = x\r\n"
        let ini = IniDocument(SourceText(path: "f", text: text))
        #expect(ini.diagnostics.isEmpty)
        #expect(ini.items == [.section(name: "profile", line: 1), .entry(key: "description", value: "x", line: 2)])
    }
}
