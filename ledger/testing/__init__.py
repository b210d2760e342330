"""Contract test suites that plugins (built-in or third-party) subclass to prove they honour the contracts."""
