package tokencache

import (
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"runtime"

	"github.com/gofrs/flock"
)

// Files under exoctl's folder are opened without following a symbolic link at their own name
// (O_NOFOLLOW): a link planted there by someone who can write the folder would otherwise make
// exoctl create, lock or read a file of the attacker's choosing.

// NewLock is a lock file at path (created 0600), opened without following a symbolic link.
func NewLock(path string) *flock.Flock {
	flag := os.O_CREATE | os.O_RDONLY | oNoFollow
	if runtime.GOOS == "aix" || runtime.GOOS == "solaris" || runtime.GOOS == "illumos" {
		flag = os.O_CREATE | os.O_RDWR | oNoFollow
	}
	return flock.New(path, flock.SetPermissions(0o600), flock.SetFlag(flag))
}

// readFile reads path without following a symbolic link at it, and names the problem when
// the path is not a regular file.
func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
	if err != nil {
		if isLoop(err) {
			return nil, fmt.Errorf("%s is a symbolic link; exoctl does not follow links to its own files: remove it", path)
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, notAFile(path, fi)
	}
	return io.ReadAll(f)
}

// notAFile says that path is a directory (or another kind of file) where exoctl keeps a file.
func notAFile(path string, fi fs.FileInfo) error {
	kind := "not a regular file"
	if fi.IsDir() {
		kind = "a directory"
	}
	return fmt.Errorf("%s is %s, where exoctl keeps one of its files: move it away (exoctl then starts that file afresh)", path, kind)
}

// CheckFolder makes sure that only its owner can write dir (EXOCTL_HOME, the connections
// folder): anyone else who can write it could plant or swap the files exoctl trusts. A folder
// of the current user that others may write is repaired (made 0700) with a warning; one of
// another user is refused. Not a folder at all is refused too.
func CheckFolder(dir string, log *slog.Logger) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder: exoctl keeps its state there; move the file away or set EXOCTL_HOME to another folder", dir)
	}
	if runtime.GOOS == "windows" {
		return nil // ACLs, not mode bits
	}
	if !ownedByMe(fi) {
		return fmt.Errorf("%s belongs to another user: exoctl keeps secrets there and uses only a folder of its own user; set EXOCTL_HOME to one", dir)
	}
	if fi.Mode().Perm()&0o022 == 0 {
		return nil
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("%s can be written by other users (mode %v) and could not be made private: %w; run chmod 700 %s", dir, fi.Mode().Perm(), err, dir)
	}
	if log != nil {
		log.Warn(fmt.Sprintf("%s could be written by other users (mode %v): made it private (0700)", dir, fi.Mode().Perm()))
	}
	return nil
}
