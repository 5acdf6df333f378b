package tokencache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// tempPattern is the name of in-flight writes beside a file named base.
func tempPattern(base string) string { return base + ".tmp-*" }

// writeTemp writes data to a new 0600 file in dir, synced to disk, and returns
// its name. The caller renames or links it into place.
func writeTemp(dir, base string, data []byte) (name string, err error) {
	f, err := os.CreateTemp(dir, tempPattern(base))
	if err != nil {
		return "", err
	}
	name = f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(name)
		}
	}()
	// CreateTemp asks for 0600, but a umask can only take bits away; set it
	// outright so the mode is exactly 0600 whatever the umask.
	if runtime.GOOS != "windows" {
		if err := f.Chmod(0o600); err != nil {
			return "", err
		}
	}
	if _, err := f.Write(data); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return name, f.Close()
}

// writeAtomic replaces path with data so that readers see the old file or the
// new one, never a mix: temp file in the same directory, fsync, rename, and an
// fsync of the directory so the rename survives a crash.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := writeTemp(dir, filepath.Base(path), data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(dir)
	return nil
}

func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// moveAside renames a corrupt file to <path>.corrupt-<UTC timestamp> and
// returns the new name. If it cannot be renamed it is removed, so the next
// write is not blocked by it; the returned name is then empty.
func moveAside(path string, now time.Time) (string, error) {
	aside := path + ".corrupt-" + now.UTC().Format("20060102T150405.000000000Z")
	err := os.Rename(path, aside)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return aside, nil
	}
	if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		return "", err
	}
	return "", nil
}

// removeStaleTemps deletes temp files left by a writer that died between
// creating and renaming them. Only call it while holding the exclusive lock:
// then no live writer has a temp file of its own.
func removeStaleTemps(path string) {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), escapeGlob(tempPattern(filepath.Base(path)))))
	for _, m := range matches {
		os.Remove(m)
	}
}

// escapeGlob quotes the glob metacharacters of a literal name, keeping a
// trailing "*" wildcard.
func escapeGlob(pattern string) string {
	lit, star := pattern, ""
	if len(lit) > 0 && lit[len(lit)-1] == '*' {
		lit, star = lit[:len(lit)-1], "*"
	}
	out := make([]byte, 0, len(lit)+len(star)+4)
	for i := 0; i < len(lit); i++ {
		switch c := lit[i]; c {
		case '*', '?', '[', '\\':
			if runtime.GOOS != "windows" {
				out = append(out, '\\')
				out = append(out, c)
			} else if c != '\\' {
				out = append(out, '[', c, ']')
			} else {
				out = append(out, c)
			}
		default:
			out = append(out, c)
		}
	}
	return string(out) + star
}
