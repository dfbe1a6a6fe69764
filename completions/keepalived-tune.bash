# bash completion for keepalived-tune                                -*- shell-script -*-
# Subcommands, their options, option values, and profile names from the live search path
# (`keepalived-tune list --names`, with any --config/--profile-dir already on the line).
# Installed as /usr/share/bash-completion/completions/keepalived-tune.

_keepalived_tune_options() {
    local global="--config --profile-dir --sysctl-root --help"
    case $1 in
        run) echo "$global --log-target" ;;
        list) echo "$global --json --names" ;;
        show) echo "$global --json" ;;
        check) echo "$global" ;;
        apply) echo "$global --netns" ;;
        verify) echo "$global --netns" ;;
        status) echo "$global --netns --json --prometheus" ;;
        connections) echo "--help --all --pid --unit --port --state --idle-over --never-reaped --check --exact --netns --all-namespaces --enable-keepalive --dry-run --json" ;;
        namespaces) echo "$global --check --json" ;;
        *) echo "--version --help" ;;
    esac
}

# The profile names, as the command would find them with the same --config/--profile-dir.
_keepalived_tune_profiles() {
    local i args=()
    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
        case ${COMP_WORDS[i]} in
            --config|--profile-dir) args+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}") ;;
        esac
    done
    keepalived-tune list --names "${args[@]}" 2>/dev/null
}

_keepalived_tune() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local commands="run list show check apply verify status connections namespaces help"
    local command="" i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            --config|--profile-dir|--sysctl-root|--log-target|--netns|--pid|--unit|--port|--state|--idle-over) ((i++)) ;;
            -*) ;;
            *) command=${COMP_WORDS[i]}; break ;;
        esac
    done

    case $prev in
        --config) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --profile-dir|--sysctl-root) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --log-target) COMPREPLY=($(compgen -W "auto journal console" -- "$cur")); return ;;
        --netns) COMPREPLY=($(compgen -W "$(ls /run/netns 2>/dev/null)" -- "$cur")); return ;;
        --state) COMPREPLY=($(compgen -W "established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait close close-wait last-ack listen closing" -- "$cur")); return ;;
        --pid|--unit|--port|--idle-over) return ;;
    esac

    if [ -z "$command" ]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--version --help" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_keepalived_tune_options "$command")" -- "$cur"))
        return
    fi
    case $command in
        show|apply) COMPREPLY=($(compgen -W "$(_keepalived_tune_profiles)" -- "$cur")) ;;
        help) COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
    esac
}

complete -F _keepalived_tune keepalived-tune
