# fish completion for keepalived-tune: subcommands, their options, option values, and
# profile names from the live search path (`keepalived-tune list --names`).
# Installed as /usr/share/fish/vendor_completions.d/keepalived-tune.fish.

set -l commands run list show check apply verify status connections namespaces help

function __keepalived_tune_profiles
    set -l tokens (commandline -opc)
    set -l args
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case --config --profile-dir
                set -a args $tokens[$i] $tokens[(math $i + 1)]
        end
    end
    keepalived-tune list --names $args 2>/dev/null
end

complete -c keepalived-tune -f
complete -c keepalived-tune -n "not __fish_seen_subcommand_from $commands" -l version -d 'Show the version'
complete -c keepalived-tune -n "not __fish_seen_subcommand_from $commands" -a run -d 'Run the daemon: apply the profile, keep it in force'
complete -c keepalived-tune -n "not __fish_seen_subcommand_from $commands" -a list -d 'List every profile on the search path'
complete -c keepalived-tune -n "not __fish_seen_subcommand_from $commands" -a show -d 'Show a resolved profile and where each value comes from'
complete -c keepalived-tune -n "not __fish_seen_subcommand_from $commands" -a check -d 'Validate the config, drop-ins and every profile'
complete -c keepalived-tune -n "not __fish_seen_subcommand_from $commands" -a apply -d 'Apply a profile once, all or nothing'
complete -c keepalived-tune -n "not __fish_seen_subcommand_from $commands" -a verify -d 'Compare the kernel with the configured profile'
complete -c keepalived-tune -n "not __fish_seen_subcommand_from $commands" -a status -d 'Show expected vs kernel values, drift, detection time'
complete -c keepalived-tune -n "not __fish_seen_subcommand_from $commands" -a connections -d 'Show connections that will never be reaped'
complete -c keepalived-tune -n "not __fish_seen_subcommand_from $commands" -a namespaces -d 'List every network namespace and its profile'
complete -c keepalived-tune -n "not __fish_seen_subcommand_from $commands" -a help -d 'Show help for a subcommand'
complete -c keepalived-tune -n "__fish_seen_subcommand_from help" -a "$commands"

# The options every subcommand but connections takes.
set -l configured run list show check apply verify status namespaces
complete -c keepalived-tune -n "__fish_seen_subcommand_from $configured" -l config -r -F -d 'Config file'
complete -c keepalived-tune -n "__fish_seen_subcommand_from $configured" -l profile-dir -r -a '(__fish_complete_directories)' -d 'Profile directory'
complete -c keepalived-tune -n "__fish_seen_subcommand_from $configured" -l sysctl-root -r -a '(__fish_complete_directories)' -d 'Sysctl tree instead of /proc/sys'
complete -c keepalived-tune -n "__fish_seen_subcommand_from $commands" -s h -l help -d 'Show help'

complete -c keepalived-tune -n "__fish_seen_subcommand_from run" -l log-target -x -a 'auto journal console' -d 'Where the log goes'
complete -c keepalived-tune -n "__fish_seen_subcommand_from list show status connections namespaces" -l json -d 'Print JSON'
complete -c keepalived-tune -n "__fish_seen_subcommand_from list" -l names -d 'Only the profile names'
complete -c keepalived-tune -n "__fish_seen_subcommand_from show apply" -a '(__keepalived_tune_profiles)' -d 'Profile'
complete -c keepalived-tune -n "__fish_seen_subcommand_from apply verify status connections" -l netns -x -a '(ls /run/netns 2>/dev/null)' -d 'Network namespace'
complete -c keepalived-tune -n "__fish_seen_subcommand_from status" -l prometheus -d 'Print Prometheus exposition'
complete -c keepalived-tune -n "__fish_seen_subcommand_from namespaces connections" -l check -d 'Exit 1 on a finding'
complete -c keepalived-tune -n "__fish_seen_subcommand_from connections" -l all -d 'Every connection, not the summary'
complete -c keepalived-tune -n "__fish_seen_subcommand_from connections" -l pid -x -d 'Only this process'
complete -c keepalived-tune -n "__fish_seen_subcommand_from connections" -l unit -x -d 'Only system units matching this glob, or user-unit:UID/GLOB'
complete -c keepalived-tune -n "__fish_seen_subcommand_from connections" -l port -x -d 'Only this local or remote port'
complete -c keepalived-tune -n "__fish_seen_subcommand_from connections" -l state -x -a 'established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait close close-wait last-ack listen closing' -d 'Only this state'
complete -c keepalived-tune -n "__fish_seen_subcommand_from connections" -l idle-over -x -d 'Only idle longer than SPAN'
complete -c keepalived-tune -n "__fish_seen_subcommand_from connections" -l never-reaped -d 'Only never-reaped connections'
complete -c keepalived-tune -n "__fish_seen_subcommand_from connections" -l exact -d 'Read keepalive from each socket'
complete -c keepalived-tune -n "__fish_seen_subcommand_from connections" -l all-namespaces -d 'Every network namespace'
complete -c keepalived-tune -n "__fish_seen_subcommand_from connections" -l enable-keepalive -d 'Turn SO_KEEPALIVE on'
complete -c keepalived-tune -n "__fish_seen_subcommand_from connections" -l dry-run -d 'Say what --enable-keepalive would do'
