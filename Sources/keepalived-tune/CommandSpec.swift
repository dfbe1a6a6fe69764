/// What a command accepts, declared once: parsing, validation and `--help` all read it.
///
/// The command line is small (nine commands, a handful of options), so it is parsed by
/// hand rather than by a general library: that keeps the daemon's binary, start-up time and
/// memory small (no reflection, no protocol-conformance scans at launch).
struct CommandSpec {
    /// The word after `keepalived-tune`, e.g. `run`.
    let name: String
    /// One line for the command list and the OVERVIEW.
    let abstract: String
    /// Paragraphs for `--help`, separated by blank lines.
    var discussion = ""
    var options: [OptionSpec] = []
    var arguments: [ArgumentSpec] = []

    /// The option spelled `--name`, if this command takes it.
    func option(named name: String) -> OptionSpec? { options.first { $0.name == name } }
}

/// An option: `--name VALUE` or `--name=VALUE`, or a flag `--name` when it has no value.
struct OptionSpec {
    /// The long name, without the dashes.
    let name: String
    /// How the value is shown in help (`<path>`); `nil` for a flag.
    var valueName: String?
    let help: String
    /// The value when the option is absent, shown in help.
    var defaultValue: String?
    /// The only values accepted, if limited.
    var choices: [String]?
    /// May be given more than once; every value is kept.
    var repeatable = false
    /// Left out of help (for tests).
    var hidden = false

    /// A flag: present or absent.
    static func flag(_ name: String, help: String) -> OptionSpec { OptionSpec(name: name, help: help) }

    /// `--name <value>` as it appears in usage lines and errors.
    var synopsis: String { valueName.map { "--\(name) <\($0)>" } ?? "--\(name)" }
}

/// A positional argument.
struct ArgumentSpec {
    let name: String
    let help: String
    var optional = false
}

/// The options and arguments found on one command line.
struct ParsedArguments {
    /// Values by option name, in the order given; a flag has one empty value per use.
    var values: [String: [String]] = [:]
    var positionals: [String] = []

    /// The option's value (the last one given), else its default.
    func value(_ option: OptionSpec) -> String? { values[option.name]?.last ?? option.defaultValue }
    /// Every value of a repeatable option.
    func all(_ option: OptionSpec) -> [String] { values[option.name] ?? [] }
    /// Whether a flag was given.
    func flag(_ option: OptionSpec) -> Bool { values[option.name] != nil }
    /// The positional argument at `index`, if given.
    func argument(_ index: Int) -> String? { index < positionals.count ? positionals[index] : nil }
}

/// A command line that does not fit the spec: shown with the usage, exit status 64.
struct UsageError: Error {
    let message: String
}
