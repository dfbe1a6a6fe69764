import KeepaliveModel

/// What a command line asks for, parsed against the commands' specs.
///
/// Grammar: `keepalived-tune COMMAND [OPTIONS] [ARGUMENTS]`, where an option is `--name
/// VALUE`, `--name=VALUE` or a flag `--name`, options and arguments may be mixed, and `--`
/// ends the options. `-h`/`--help` anywhere asks for help, as does `keepalived-tune help
/// [COMMAND]`; `--version` is top-level only.
enum Invocation {
    /// Help for one command, or (`nil`) the top-level help.
    case help(CommandSpec?)
    case version
    case command(CommandSpec, ParsedArguments)

    /// A usage error, with the command whose usage line goes with it (`nil`: the top level).
    struct Failure: Error {
        let error: UsageError
        let command: CommandSpec?
    }

    /// Parses the arguments after the program name.
    static func parse(_ arguments: [String], commands: [CommandSpec]) throws(Failure) -> Invocation {
        guard let first = arguments.first, first != "-h", first != "--help" else { return .help(nil) }
        if first == "--version" { return .version }
        if first == "help" {
            guard arguments.count > 1 else { return .help(nil) }
            return .help(try command(named: arguments[1], in: commands))
        }
        let spec = try command(named: first, in: commands)
        let rest = arguments.dropFirst()
        if rest.prefix(while: { $0 != "--" }).contains(where: { $0 == "-h" || $0 == "--help" }) { return .help(spec) }
        do {
            return .command(spec, try parse(rest, for: spec))
        } catch {
            throw Failure(error: error, command: spec)
        }
    }

    /// The command called `name`, or a usage error naming the closest one.
    private static func command(named name: String, in commands: [CommandSpec]) throws(Failure) -> CommandSpec {
        if let spec = commands.first(where: { $0.name == name }) { return spec }
        let what = name.hasPrefix("-") ? "Unknown option '\(name)'" : "Unknown command '\(name)'"
        let hint = name.hasPrefix("-") ? "" : Suggestion.phrase(for: name, among: commands.map(\.name))
        throw Failure(error: UsageError(message: what + hint), command: nil)
    }

    /// The options and arguments of one command.
    static func parse(_ arguments: ArraySlice<String>, for spec: CommandSpec) throws(UsageError) -> ParsedArguments {
        var parsed = ParsedArguments()
        var remaining = arguments[...]
        var optionsEnded = false
        while let argument = remaining.popFirst() {
            if !optionsEnded && argument == "--" {
                optionsEnded = true
            } else if !optionsEnded && argument.hasPrefix("-") && argument != "-" {
                let (option, value) = try self.option(argument, for: spec, rest: &remaining)
                parsed.values[option.name, default: []].append(value)
            } else {
                guard parsed.positionals.count < spec.arguments.count else {
                    throw UsageError(message: "Unexpected argument '\(argument)'")
                }
                parsed.positionals.append(argument)
            }
        }
        if let missing = spec.arguments.dropFirst(parsed.positionals.count).first(where: { !$0.optional }) {
            throw UsageError(message: "Missing expected argument '<\(missing.name)>'")
        }
        return parsed
    }

    /// Reads one option (and its value, from the same word or the next) off the line.
    private static func option(_ word: String, for spec: CommandSpec,
                               rest: inout ArraySlice<String>) throws(UsageError) -> (OptionSpec, String) {
        let unknown = UsageError(message: "Unknown option '\(word)'")
        guard word.hasPrefix("--") else { throw unknown }
        let body = word.dropFirst(2)
        let equals = body.firstIndex(of: "=")
        let name = String(body[..<(equals ?? body.endIndex)])
        guard let option = spec.option(named: name) else { throw unknown }
        let inline = equals.map { String(body[body.index(after: $0)...]) }
        guard option.valueName != nil else {
            if inline != nil { throw UsageError(message: "'--\(name)' takes no value") }
            return (option, "")
        }
        let value: String
        if let inline {
            value = inline
        } else if let next = rest.first, !next.hasPrefix("-") || next == "-" {
            value = next
            rest = rest.dropFirst()
        } else {
            throw UsageError(message: "Missing value for '\(option.synopsis)'")
        }
        if let choices = option.choices, !choices.contains(value) {
            throw UsageError(message: "The value '\(value)' is invalid for '\(option.synopsis)'; use one of \(choices.map { "'\($0)'" }.joined(separator: ", "))")
        }
        return (option, value)
    }
}
