/// `--help` and usage lines, laid out from the commands' specs: OVERVIEW, the discussion,
/// USAGE, ARGUMENTS, OPTIONS (and SUBCOMMANDS at the top level), wrapped at 80 columns with
/// descriptions in a column of their own.
enum HelpText {
    static let program = "keepalived-tune"
    static let width = 80
    /// Where descriptions start.
    static let column = 26

    static let help = OptionSpec.flag("help", help: "Show help information.")

    /// The top-level help: the program, its options and its commands.
    static func top(_ spec: CommandSpec, commands: [CommandSpec]) -> String {
        var lines = overview(spec)
        lines += ["USAGE: \(program) <subcommand>", "", "OPTIONS:"]
        lines += spec.options.flatMap(entry) + entry(help, label: "-h, --help")
        lines += ["", "SUBCOMMANDS:"]
        lines += commands.flatMap { entry(label: $0.name, $0.abstract) }
        lines += ["", "  See '\(program) help <subcommand>' for detailed help."]
        return lines.joined(separator: "\n")
    }

    /// One command's help.
    static func command(_ spec: CommandSpec) -> String {
        var lines = overview(spec)
        lines += ["USAGE: \(usage(spec))", ""]
        if !spec.arguments.isEmpty {
            lines += ["ARGUMENTS:"] + spec.arguments.flatMap { entry(label: "<\($0.name)>", $0.help) } + [""]
        }
        lines += ["OPTIONS:"] + spec.options.filter { !$0.hidden }.flatMap(entry) + entry(help, label: "-h, --help")
        return lines.joined(separator: "\n")
    }

    /// `keepalived-tune run [--config <path>] …`: the command line a command takes.
    static func usage(_ spec: CommandSpec?) -> String {
        guard let spec else { return "\(program) <subcommand>" }
        let options = spec.options.filter { !$0.hidden }.map { "[\($0.synopsis)\($0.repeatable ? " ..." : "")]" }
        let arguments = spec.arguments.map { $0.optional ? "[<\($0.name)>]" : "<\($0.name)>" }
        return ([program, spec.name] + options + arguments).joined(separator: " ")
    }

    /// The usage error block printed on standard error.
    static func error(_ failure: Invocation.Failure) -> String {
        let more = failure.command.map { "\(program) \($0.name) --help" } ?? "\(program) --help"
        return "Error: \(failure.error.message)\nUsage: \(usage(failure.command))\n  See '\(more)' for more information."
    }

    private static func overview(_ spec: CommandSpec) -> [String] {
        var lines = ["OVERVIEW: \(spec.abstract)", ""]
        for paragraph in spec.discussion.split(separator: "\n\n", omittingEmptySubsequences: true) {
            lines += wrap(String(paragraph), width: width) + [""]
        }
        return lines
    }

    /// An option's lines: its synopsis, then its help with choices and default.
    private static func entry(_ option: OptionSpec) -> [String] {
        var text = option.help
        var notes: [String] = []
        if let choices = option.choices { notes.append("values: \(choices.joined(separator: ", "))") }
        if let value = option.defaultValue { notes.append("default: \(value)") }
        if !notes.isEmpty { text += " (\(notes.joined(separator: "; ")))" }
        return entry(label: option.synopsis, text)
    }

    private static func entry(_ option: OptionSpec, label: String) -> [String] { entry(label: label, option.help) }

    /// `  label` with `text` wrapped in the description column (below the label if it is long).
    private static func entry(label: String, _ text: String) -> [String] {
        let pad = String(repeating: " ", count: column)
        var lines = wrap(text, width: width - column).map { pad + $0 }
        let head = "  " + label
        if head.count + 2 <= column, !lines.isEmpty {
            lines[0] = head + String(repeating: " ", count: column - head.count) + lines[0].dropFirst(column)
        } else {
            lines.insert(head, at: 0)
        }
        return lines
    }

    /// Splits `text` into lines of at most `width` characters, at spaces.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += line.isEmpty ? String(word) : " " + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
