
#compdef gemma-mcp

_gemma_mcp_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _GEMMA_MCP_COMPLETE=complete_zsh gemma-mcp)
}

compdef _gemma_mcp_completion gemma-mcp

