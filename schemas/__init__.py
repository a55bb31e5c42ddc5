"""The data contract: pandera models of the canonical tables and what is generated from them."""
