//go:build !unix

package cli

import "errors"

// execProcess cannot replace the process here: the caller runs path as a child instead.
func execProcess(path string, argv, env []string) error { return errors.ErrUnsupported }

func exeSuffix() string { return ".exe" }
