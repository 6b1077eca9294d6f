/* SPDX-License-Identifier: Apache-2.0 */
/* slioctl completion bash: a bash completion script for slioctl and kubectl-sliteio. */
#include <string.h>

#include "cli.h"

static const char bash_script[] =
    "# bash completion for slioctl (source it, or put it in\n"
    "# /usr/share/bash-completion/completions/slioctl)\n"
    "_slioctl() {\n"
    "    local cur prev words cword\n"
    "    _init_completion 2>/dev/null || { cur=\"${COMP_WORDS[COMP_CWORD]}\";\n"
    "        prev=\"${COMP_WORDS[COMP_CWORD-1]}\"; words=(\"${COMP_WORDS[@]}\"); "
    "cword=$COMP_CWORD; }\n"
    "    local cmds=\"get describe create delete expand snapshot cordon uncordon drain top "
    "attach detach set show health completion\"\n"
    "    local flags=\"--server --token-file --ca-file --metrics-token-file --config --help "
    "--version -o "
    "--output --node --limit "
    "--all "
    "--chunk-size --size --thin --position --consumer-node --spread-group --spread-level "
    "--soft-spread --qos-iops --qos-mbps --qos-read-mbps --qos-write-mbps --volume --fs-type "
    "--interval --from-snapshot --from-volume\"\n"
    "    case \"$prev\" in\n"
    "        -o|--output) COMPREPLY=($(compgen -W \"table wide json yaml\" -- \"$cur\")); "
    "return;;\n"
    "        --position) COMPREPLY=($(compgen -W \"any must_local prefer_local prefer_remote "
    "must_remote\" -- \"$cur\")); return;;\n"
    "        --spread-level) COMPREPLY=($(compgen -W \"node rack zone\" -- \"$cur\")); return;;\n"
    "        --token-file|--ca-file|--metrics-token-file|--config) COMPREPLY=($(compgen -f -- "
    "\"$cur\")); return;;\n"
    "        --fs-type) COMPREPLY=($(compgen -W \"ext4 xfs\" -- \"$cur\")); return;;\n"
    "    esac\n"
    "    if [[ \"$cur\" == -* ]]; then COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\")); return; "
    "fi\n"
    "    local i cmd=\"\" sub=\"\"\n"
    "    for ((i = 1; i < cword; i++)); do\n"
    "        [[ \"${words[i]}\" == -* ]] && continue\n"
    "        if [[ -z \"$cmd\" ]]; then cmd=\"${words[i]}\"; elif [[ -z \"$sub\" ]]; then "
    "sub=\"${words[i]}\"; fi\n"
    "    done\n"
    "    if [[ -z \"$cmd\" ]]; then COMPREPLY=($(compgen -W \"$cmds\" -- \"$cur\")); return; fi\n"
    "    if [[ -n \"$sub\" ]]; then return; fi\n"
    "    case \"$cmd\" in\n"
    "        get) COMPREPLY=($(compgen -W \"nodes pools volumes snapshots events orphans\" -- "
    "\"$cur\"));;\n"
    "        describe) COMPREPLY=($(compgen -W \"node pool volume snapshot\" -- \"$cur\"));;\n"
    "        set) COMPREPLY=($(compgen -W \"qos\" -- \"$cur\"));;\n"
    "        create|delete|expand|attach|detach) COMPREPLY=($(compgen -W \"volume\" -- "
    "\"$cur\"));;\n"
    "        snapshot) COMPREPLY=($(compgen -W \"create delete\" -- \"$cur\"));;\n"
    "        cordon|uncordon|drain) COMPREPLY=($(compgen -W \"pool\" -- \"$cur\"));;\n"
    "        top) COMPREPLY=($(compgen -W \"volumes pools\" -- \"$cur\"));;\n"
    "        completion) COMPREPLY=($(compgen -W \"bash\" -- \"$cur\"));;\n"
    "    esac\n"
    "}\n"
    "complete -F _slioctl slioctl kubectl-sliteio\n";

static int run_completion(struct cli *c)
{
    if (strcmp(c->o->args[0], "bash") != 0)
        return cli_usage(c, "completion: \"%s\" is not a supported shell (bash)", c->o->args[0]);
    fputs(bash_script, c->out);
    return CLI_OK;
}

const struct cli_command cli_cmd_completion = {
    .words = "completion",
    .flags = 0,
    .min_args = 1,
    .max_args = 1,
    .no_server = true,
    .run = run_completion,
    .usage = "completion bash",
    .help = "Print a bash completion script: source <(slioctl completion bash)\n",
};
