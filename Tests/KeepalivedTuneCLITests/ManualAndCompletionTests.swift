import Foundation
@testable import KeepalivedTuneCLI
import KeepaliveModel
import KeepaliveTestKit
import Testing

/// What the command specs (the ones `--help` and the parser use) declare, for the man pages
/// and the completions to be checked against.
enum Declared {
    /// Every command, with its visible options (`--name`, `--help` included).
    static var commands: [(name: String, options: Set<String>)] {
        KeepalivedTune.commands.map { command in
            (command.spec.name, Set(command.spec.options.filter { !$0.hidden }.map { "--\($0.name)" } + ["--help"]))
        }
    }

    static let manDirectory = FileList.packageRoot + "/man"
    static let completions = FileList.packageRoot + "/completions"
    static let profiles = FileList.packageRoot + "/profiles"

    /// A man page's text with roff's `\-` read as `-`.
    static func manPage(_ name: String) throws -> String {
        try String(contentsOfFile: "\(manDirectory)/\(name)", encoding: .utf8).replacingOccurrences(of: "\\-", with: "-")
    }
}

/// The three man pages: lint-clean, rendered by man, and never behind the code: every
/// command, option, config section and key, profile key and journal event is in them.
@Suite("Man pages")
struct ManPageTests {
    static let pages = ["keepalived-tune.8", "keepalived-tune.conf.5", "keepalived-tune.profile.5"]

    @Test(.enabled(if: ChildProcessLookup.path(of: "mandoc") != nil, "mandoc is not installed (apt-get install mandoc)"))
    func mandocFindsNothingAboveAStyleMessage() throws {
        for page in Self.pages {
            let result = try ChildProcess.run(["mandoc", "-T", "lint", "-W", "warning", "\(Declared.manDirectory)/\(page)"])
            #expect(result.status == 0 && result.stdout.isEmpty && result.stderr.isEmpty, "\(page): \(result)")
        }
    }

    @Test(.enabled(if: ChildProcessLookup.path(of: "man") != nil, "man is not installed (apt-get install man-db)"))
    func manRendersEachPage() throws {
        for page in Self.pages {
            let result = try ChildProcess.run(["man", "-l", "\(Declared.manDirectory)/\(page)"], environment: ChildProcess.environment(["MANPAGER": "cat", "PAGER": "cat", "MANWIDTH": "80"]))
            #expect(result.status == 0 && result.stdout.contains("NAME") && result.stdout.contains("SEE ALSO"), "\(page): \(result)")
        }
    }

    @Test func everyCommandAndOptionIsInKeepalivedTune8() throws {
        let page = try Declared.manPage("keepalived-tune.8")
        for (name, options) in Declared.commands {
            #expect(page.contains(".B \(name)") || page.contains(".BR \(name)") || page.contains(".BI \(name)"), "command \(name)")
            for option in options { #expect(page.contains(option), "\(name) \(option)") }
        }
        #expect(page.contains("--version"))
        for event in ["metrics-failed", "namespace-adopted", "reload-rejected"] { #expect(page.contains(event)) }
    }

    @Test func everyConfigSectionAndKeyIsInKeepalivedTuneConf5() throws {
        let page = try Declared.manPage("keepalived-tune.conf.5")
        for rule in DaemonConfig.schema.rules {
            #expect(page.contains(".SH [\(rule.section)]"), "section [\(rule.section)]")
            if rule.key != "PROFILE" { #expect(page.contains(rule.key), "[\(rule.section)] \(rule.key)") }
        }
    }

    @Test func everyProfileKeyIsInKeepalivedTuneProfile5() throws {
        let page = try Declared.manPage("keepalived-tune.profile.5")
        for rule in ProfileDocument.schema.rules { #expect(page.contains(rule.key), "[\(rule.section)] \(rule.key)") }
        for directory in ["/etc/keepalived-tune/profiles", "/usr/local/lib/keepalived-tune/profiles", "/usr/lib/keepalived-tune/profiles"] {
            #expect(page.contains(directory))
        }
        let builtins = try FileManager.default.contentsOfDirectory(atPath: Declared.profiles).filter { $0.hasSuffix(".conf") }
        for file in builtins { #expect(page.contains(".B \(file.dropLast(5))"), "built-in \(file)") }
    }

    @Test func theVersionIsTheProducts() throws {
        for page in Self.pages {
            #expect(try Declared.manPage(page).contains("\"keepalived-tune \(ProductVersion.current)\""), "\(page)")
        }
    }
}

/// bash, fish and zsh completion: subcommands, each command's options exactly as declared,
/// and profile names from the live search path (`list --names`).
@Suite("Shell completions")
struct CompletionTests {
    /// This test's copy of the shipped profiles, with modes 0644 and 0755: a checkout's may
    /// be group-writable (umask 002), and a root's strict modes refuse such files.
    let shipped: TemporaryDirectory
    var profiles: String { shipped.url("profiles") }

    /// Copies the shipped profiles; the copy goes with the test.
    init() throws {
        shipped = try TemporaryDirectory("kt-shipped")
        try shipped.copy(Declared.profiles, to: "profiles")
    }

    /// The built binary first on PATH, as the completions call `keepalived-tune`.
    static var environment: [String: String] {
        ChildProcess.environment(["PATH": "\(ChildProcess.productsDirectory):" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")])
    }

    /// COMPREPLY for the words typed, the last one being completed.
    func bash(_ words: [String]) throws -> [String] {
        let quoted = words.map { "'\($0)'" }.joined(separator: " ")
        let result = try ChildProcess.run(["bash", "--norc", "-c", """
            source '\(Declared.completions)/keepalived-tune.bash'
            COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1)
            _keepalived_tune
            printf '%s\\n' "${COMPREPLY[@]}"
            """], environment: Self.environment)
        #expect(result.status == 0 && result.stderr.isEmpty, "\(result)")
        return result.stdout.split(separator: "\n").map(String.init)
    }

    @Test(.enabled(if: ChildProcessLookup.path(of: "bash") != nil, "bash is not installed"))
    func bashCompletesCommandsOptionsAndProfiles() throws {
        #expect(try bash(["keepalived-tune", "sh"]) == ["show"])
        #expect(try Set(bash(["keepalived-tune", ""])) == Set(Declared.commands.map(\.name) + ["help"]))
        for (name, options) in Declared.commands {
            #expect(try Set(bash(["keepalived-tune", name, "--"])) == options, "\(name)")
        }
        #expect(try bash(["keepalived-tune", "show", "--profile-dir", profiles, ""]) == ["default", "nat", "server", "web"])
        #expect(try bash(["keepalived-tune", "apply", "--profile-dir", profiles, "w"]) == ["web"])
        #expect(try bash(["keepalived-tune", "run", "--log-target", ""]) == ["auto", "journal", "console"])
        #expect(try bash(["keepalived-tune", "status", "--pro"]) == ["--profile-dir", "--prometheus"])
    }

    func fish(_ line: String) throws -> [String] {
        let result = try ChildProcess.run(["fish", "--no-config", "-c", "source '\(Declared.completions)/keepalived-tune.fish'; complete -C '\(line)'"],
                                          environment: Self.environment)
        #expect(result.status == 0, "\(result)")
        return result.stdout.split(separator: "\n").map { String($0.split(separator: "\t").first ?? "") }
    }

    @Test(.enabled(if: ChildProcessLookup.path(of: "fish") != nil, "fish is not installed (apt-get install fish)"))
    func fishCompletesCommandsOptionsAndProfiles() throws {
        #expect(try fish("keepalived-tune sh") == ["show"])
        #expect(try Set(fish("keepalived-tune ")) == Set(Declared.commands.map(\.name) + ["help"]))
        for (name, options) in Declared.commands {
            #expect(try Set(fish("keepalived-tune \(name) --")) == options, "\(name)")
        }
        #expect(try fish("keepalived-tune show --profile-dir \(profiles) ") == ["default", "nat", "server", "web"])
    }

    /// zsh under compinit in a zpty, Tab pressed after `keepalived-tune `: the subcommands
    /// are listed. The script reads the terminal until they all appear (or 60 s pass).
    @Test(.enabled(if: ChildProcessLookup.path(of: "zsh") != nil, "zsh is not installed (apt-get install zsh)"))
    func zshLoadsUnderCompinitAndOffersTheSubcommands() throws {
        let commands = Declared.commands.map(\.name)
        let script = """
            zmodload zsh/zpty
            zpty z 'zsh -f -i'
            zpty -w z 'PS1="%% "; fpath=(\(Declared.completions) $fpath); autoload -Uz compinit; compinit -u -D; setopt nobeep'
            zpty -n -w z $'keepalived-tune \\t\\t'
            out=""
            deadline=$((SECONDS + 60))
            while (( SECONDS < deadline )); do
              if zpty -r -t z line; then out+="$line"; else sleep 0.02; fi
              missing=0
              for c in \(commands.joined(separator: " ")); do [[ $out == *$c* ]] || missing=1; done
              (( missing )) || break
            done
            zpty -d z
            print -r -- "$out" | tr -d '\\r'
            """
        let result = try ChildProcess.run(["zsh", "-f", "-c", script], environment: Self.environment)
        #expect(result.status == 0, "\(result)")
        for command in commands { #expect(result.stdout.contains(command), "\(command) not offered:\n\(result.stdout)") }
    }

    @Test func listNamesIsQuietAndMachineReadable() throws {
        let result = try ChildProcess.run([ChildProcess.keepalivedTune, "list", "--names", "--profile-dir", profiles,
                                           "--config", "/nonexistent/keepalived-tune.conf"])
        #expect(result.status == 0 && result.stderr.isEmpty, "\(result)")
        #expect(result.stdout == "default\nnat\nserver\nweb\n")
    }
}
