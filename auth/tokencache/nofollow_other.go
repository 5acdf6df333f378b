//go:build !unix

package tokencache

import "io/fs"

// oNoFollow is 0 where open has no such flag (Windows: links need privileges to create).
const oNoFollow = 0

func isLoop(error) bool { return false }

func ownedByMe(fs.FileInfo) bool { return true }
