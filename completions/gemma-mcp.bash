
_gemma_mcp_completion() {
    mapfile -t COMPREPLY < <(env COMP_WORDS="${COMP_WORDS[*]}" \
                                 COMP_CWORD=$COMP_CWORD \
                                 _GEMMA_MCP_COMPLETE=complete_bash $1)
    return 0
}

complete -o default -F _gemma_mcp_completion gemma-mcp

