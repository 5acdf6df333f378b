//go:build unix

package tokencache

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// oNoFollow makes open fail on a symbolic link at the path's last element.
const oNoFollow = syscall.O_NOFOLLOW

// isLoop reports the error open gives for a symbolic link under O_NOFOLLOW.
func isLoop(err error) bool { return errors.Is(err, syscall.ELOOP) }

func ownedByMe(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || int(st.Uid) == os.Getuid()
}
