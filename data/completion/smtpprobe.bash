# bash completion for smtpprobe(1). Installed as
# /usr/share/bash-completion/completions/smtpprobe. When an option is added to smtpprobe, add
# it to the lists below and to _smtpprobe (zsh); tests/docs/man_options.sh checks both.

_smtpprobe_profiles() {
    local dir bin
    local -a dirs=()
    [[ -n ${SMTPPROBE_PROFILE_DIR:-} ]] && dirs+=("$SMTPPROBE_PROFILE_DIR")
    bin=$(type -P smtpprobe 2>/dev/null) && dirs+=("${bin%/*}/../share/smtpprobe/profiles")
    dirs+=(/usr/share/smtpprobe/profiles /usr/local/share/smtpprobe/profiles)
    for dir in "${dirs[@]}"; do
        [[ -d $dir ]] || continue
        compgen -G "$dir/*.json" | sed 's|.*/||; s|\.json$||'
    done | sort -u
}

_smtpprobe() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion -n : || return
    else
        cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
    fi

    local command=""
    case ${words[1]:-} in emulate | explain | exporter) command=${words[1]} ;; esac

    case $prev in
    --tls)
        COMPREPLY=($(compgen -W 'auto starttls implicit none' -- "$cur"))
        return ;;
    --format | -f)
        COMPREPLY=($(compgen -W 'text json ndjson nagios html' -- "$cur"))
        return ;;
    --color)
        COMPREPLY=($(compgen -W 'auto always never' -- "$cur"))
        return ;;
    --certificate)
        COMPREPLY=($(compgen -W 'valid expired self-signed wrong-host' -- "$cur"))
        return ;;
    --tls-min | --tls-max | --expect-tls-min)
        COMPREPLY=($(compgen -W '1.0 1.1 1.2 1.3' -- "$cur"))
        return ;;
    --mechanisms | --expect-auth)
        COMPREPLY=($(compgen -W 'PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256
            SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS XOAUTH2 OAUTHBEARER NTLM GSSAPI ANONYMOUS
            EXTERNAL' -- "$cur"))
        return ;;
    --profile)
        if [[ $cur == */* ]]; then
            COMPREPLY=($(compgen -f -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_smtpprobe_profiles)" -- "$cur") $(compgen -f -X '!*.json' -- "$cur"))
        fi
        return ;;
    --ca-file | --password-file | --oauth-token-file | --output | -o | --transcript-file | --ca-out | --client-cert-out | --targets-file | \
        --config | --proxy-password-file | --cert | --key | --key-passphrase-file | --data-file)
        COMPREPLY=($(compgen -f -- "$cur"))
        return ;;
    --ca-path | --bundle)
        COMPREPLY=($(compgen -d -- "$cur"))
        return ;;
    --password-env | --oauth-token-env | --proxy-password-env | --key-passphrase-env)
        COMPREPLY=($(compgen -v -- "$cur"))
        return ;;
    --ehlo-name | --connect-timeout | --command-timeout | --banner-wait | --timeout | --parallel | --sni | \
        --cert-warn-days | --cert-crit-days | --jobs | --count | --max-connections | --user | -u | --warning | --critical | --listen | \
        --allow-target | --source | --noproxy | --gssapi-service | --authzid | --oauth-token-cmd)
        return ;;
    --proxy)
        COMPREPLY=($(compgen -W 'socks5:// socks5h:// http://' -- "$cur"))
        compopt -o nospace 2>/dev/null
        return ;;
    esac

    case $command in
    emulate)
        COMPREPLY=($(compgen -W '--profile --listen --count --certificate --max-connections --ca-out --client-cert-out --help' -- "$cur"))
        return ;;
    exporter)
        COMPREPLY=($(compgen -W '--listen --config --allow-target --ca-file --help' -- "$cur"))
        return ;;
    explain)
        return ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '--ehlo-name --ipv4 --ipv6 --connect-timeout --command-timeout --banner-wait
            --timeout --parallel --all-addresses --targets-file --jobs --source --proxy --noproxy --proxy-password-env
            --proxy-password-file --tls --ca-file --ca-path --insecure --sni --no-sni --tls-min
            --tls-max --cert-warn-days --cert-crit-days --tls-versions --cert --key
            --key-passphrase-env --key-passphrase-file --user --password-env
            --password-file --password-stdin --oauth-token-env --oauth-token-file --oauth-token-cmd
            --gssapi-service --authzid --allow-insecure-auth --mechanisms --show-username --expect-auth --expect-starttls
            --expect-tls-min --warning --critical --size --requiretls
            --mail-from --rcpt --expect-sender-accepted --expect-rcpt-accepted --line-endings
            --send --data-file
            --format --output --transcript
            --transcript-file --bundle --color --demo --profile --help --version' -- "$cur"))
    elif [[ $cword -eq 1 ]]; then
        COMPREPLY=($(compgen -W 'emulate explain exporter' -- "$cur") $(compgen -A hostname -- "$cur"))
    else
        COMPREPLY=($(compgen -A hostname -- "$cur"))
    fi
} &&
    complete -F _smtpprobe smtpprobe
