//go:build tools

// Package engine pins the Pulumi CLI so that `go build` of its main package
// resolves against this module's go.mod.
package engine

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
