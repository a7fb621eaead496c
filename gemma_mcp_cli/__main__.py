"""`python -m gemma_mcp_cli` is the gemma-mcp command."""

from gemma_mcp_cli.cli.entry import main

if __name__ == "__main__":
    main()
