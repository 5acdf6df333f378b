package emulator

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gofrs/flock"
)

// Files that say who holds a data folder.
const (
	// LockFile in the data folder is locked (flock, LockFileEx on Windows) by the emulator
	// serving the folder, for as long as it runs; the lock dies with the process.
	LockFile = "emulator.lock"
	// pidFile names the process holding the lock, for the error a second emulator gives.
	pidFile = "emulator.pid"
)

// dataLock is a held lock on a data folder.
type dataLock struct {
	fl  *flock.Flock
	pid string
}

// lockDataDir takes the data folder's lock, or says which process holds it. Two emulators on
// one folder would share a database and overwrite each other's emulator.json (clients would
// connect to the wrong port).
func lockDataDir(dir string) (*dataLock, error) {
	lockPath := filepath.Join(dir, LockFile)
	if fi, err := os.Lstat(lockPath); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file: remove it and start the emulator again", lockPath)
	}
	fl := flock.New(lockPath, flock.SetPermissions(0o600))
	locked, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock the data folder %s: %w", dir, err)
	}
	if !locked {
		holder := "another process"
		if b, err := os.ReadFile(filepath.Join(dir, pidFile)); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				holder = fmt.Sprintf("process %d", pid)
			}
		}
		return nil, fmt.Errorf("the data folder %s is in use by another emulator (%s): stop it, or start this one with --data naming another folder", dir, holder)
	}
	l := &dataLock{fl: fl, pid: filepath.Join(dir, pidFile)}
	if err := writeFileAtomic(l.pid, []byte(strconv.Itoa(os.Getpid())+"\n")); err != nil {
		_ = fl.Close()
		return nil, err
	}
	return l, nil
}

// release gives the folder up. The lock file stays (removing it would race with a starting
// emulator that already opened it); the pid file goes, as nobody holds the folder any more.
func (l *dataLock) release() error {
	err := os.Remove(l.pid)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	return errors.Join(err, l.fl.Close())
}
