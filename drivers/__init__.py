"""labctl.drivers"""
