"""labctl.sequences"""
