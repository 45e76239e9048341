"""Pure logic of the stack: config validation, naming, CIDR planning, tagging."""
