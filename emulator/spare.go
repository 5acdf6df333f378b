package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
)

// Spare folders: a running emulator makes, in the background, one data folder seeded with the
// demo tenant ahead of need (its own keys, CA, certificates, database and seed.json), in the
// folders folder of token.SpareDir (0700). A start on an empty data folder with the demo seed
// moves such a folder in instead of generating keys and seeding — the same content, made a
// little earlier. A spare folder goes to one data folder only (it is claimed by a rename and
// leaves the cache), so no two data folders share keys or secrets. Only folders made by this
// very executable are taken, and none older than spareFolderMaxAge: a spare's dates are
// those of its seed.

// spareFolderMaxAge is how old a spare folder may be: its seed's "now" stays close to the
// real one, and folders of executables since rebuilt do not linger.
const spareFolderMaxAge = time.Hour

// spareMadeBy names the file of a spare folder that says which executable made it and where.
const spareMadeBy = "spare.json"

type spareOrigin struct {
	Executable string `json:"executable"` // spareTag of the executable that made it
	Dir        string `json:"dir"`        // the folder seed.json's paths name
}

// spareFolders is where spare folders are kept; "" when spares are off.
func spareFolders() string {
	d := token.SpareDir()
	if d == "" {
		return ""
	}
	return filepath.Join(d, "folders")
}

// spareTag identifies this executable: its path, size and modification time.
var spareTag = sync.OnceValue(func() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d", exe, fi.Size(), fi.ModTime().UnixNano()))
	return hex.EncodeToString(sum[:16])
})

// privateDir reports whether dir exists and only its owner may enter it.
func privateDir(dir string) bool {
	fi, err := os.Lstat(dir)
	return err == nil && fi.IsDir() && fi.Mode().Perm()&0o077 == 0
}

// emptyDataDir reports whether dir holds nothing yet but the emulator's lock and pid files.
func emptyDataDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !lockFiles(e.Name()) {
			return false
		}
	}
	return true
}

func lockFiles(name string) bool { return name == LockFile || name == pidFile }

func demoSeed(seed string) bool { return seed == "" || seed == store.SeedDemo }

// readSpareOrigin reads a spare folder's spare.json.
func readSpareOrigin(dir string) (spareOrigin, error) {
	var o spareOrigin
	b, err := os.ReadFile(filepath.Join(dir, spareMadeBy))
	if err == nil {
		err = json.Unmarshal(b, &o)
	}
	return o, err
}

// spareCandidates lists the spare folders this executable may take, removing those that are
// too old. Folders being made or taken start with a dot.
func spareCandidates(base string) []string {
	entries, err := os.ReadDir(base)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		path := filepath.Join(base, e.Name())
		info, err := e.Info()
		if err != nil || !e.IsDir() {
			continue
		}
		if time.Since(info.ModTime()) > spareFolderMaxAge {
			_ = os.RemoveAll(path)
			continue
		}
		if strings.HasPrefix(e.Name(), ".") || info.Mode().Perm()&0o077 != 0 {
			continue
		}
		if o, err := readSpareOrigin(path); err == nil && o.Executable == spareTag() && o.Executable != "" {
			out = append(out, e.Name())
		}
	}
	return out
}

// takeSpareFolder moves a spare folder's files into the empty data folder dir; false when
// there is none to take.
func takeSpareFolder(dir string) (bool, error) {
	base := spareFolders()
	if base == "" || !privateDir(base) {
		return false, nil
	}
	for _, name := range spareCandidates(base) {
		claimed := filepath.Join(base, ".taken-"+name)
		if os.Rename(filepath.Join(base, name), claimed) != nil {
			continue // another start took it
		}
		err := moveSpareFolder(claimed, dir)
		_ = os.RemoveAll(claimed)
		if err != nil {
			// Leave the data folder as empty as it was: the start seeds it instead.
			if entries, rerr := os.ReadDir(dir); rerr == nil {
				for _, e := range entries {
					if !lockFiles(e.Name()) {
						_ = os.RemoveAll(filepath.Join(dir, e.Name()))
					}
				}
			}
			return false, err
		}
		return true, nil
	}
	return false, nil
}

// moveSpareFolder moves the files of a claimed spare folder into dir, seed.json's paths
// moved with them.
func moveSpareFolder(from, dir string) error {
	o, err := readSpareOrigin(from)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if name == spareMadeBy || !e.Type().IsRegular() {
			continue
		}
		src, dst := filepath.Join(from, name), filepath.Join(dir, name)
		if name == seedFile {
			b, err := os.ReadFile(src)
			if err != nil {
				return err
			}
			if b, err = movedSeedFile(b, o.Dir, dir); err != nil {
				return err
			}
			if err := writeFileAtomic(dst, b); err != nil {
				return err
			}
			continue
		}
		if err := os.Rename(src, dst); err != nil {
			if err := copyFile(src, dst); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyFile copies a file with its permissions (a rename across file systems).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}

// makeSpareFolder makes a spare folder seeded with the demo tenant, unless one this executable
// may take is there already.
func makeSpareFolder(ctx context.Context) error {
	base := spareFolders()
	if base == "" || spareTag() == "" {
		return nil
	}
	if err := os.MkdirAll(base, 0o700); err != nil {
		return fmt.Errorf("spare folder: %w", err)
	}
	if !privateDir(base) {
		return fmt.Errorf("spare folder %s may be read by others: make it 0700 or set %s=off", base, token.SpareEnv)
	}
	if len(spareCandidates(base)) > 0 {
		return nil
	}
	tmp, err := os.MkdirTemp(base, ".new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // after the rename, nothing is left there
	p, err := loadOrCreatePKI(tmp, false)
	if err != nil {
		return err
	}
	if _, err := token.LoadOrCreateKeys(filepath.Join(tmp, "signing-key.pem"), false); err != nil {
		return err
	}
	s, err := store.Open(ctx, filepath.Join(tmp, "emulator.db"))
	if err != nil {
		return err
	}
	_, err = seedOnce(ctx, s, tmp, store.SeedDemo, p)
	if err = errors.Join(err, s.Close()); err != nil {
		return err
	}
	b, err := json.Marshal(spareOrigin{Executable: spareTag(), Dir: tmp})
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(tmp, spareMadeBy), b); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(base, strings.ToLower(randomPassword())))
}
