//go:build unix

package cli

import "syscall"

// execProcess replaces this process with path.
func execProcess(path string, argv, env []string) error { return syscall.Exec(path, argv, env) }

func exeSuffix() string { return "" }
