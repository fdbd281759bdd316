//go:build tools

// Package tools pins the Pulumi CLI in this wrapper module: tools/build-engine.sh
// writes go.mod (versions from requirements.lock, replace directives from
// Pulumi's own pkg/go.mod) and builds ./langhost and the CLI with it.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
