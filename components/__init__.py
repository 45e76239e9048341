"""One pulumi.ComponentResource per concern."""
