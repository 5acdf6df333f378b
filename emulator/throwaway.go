package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// Throwaway emulators (Start with no data folder) share this process's RSA keys already; they
// also share their first one's data folder as it was right after its seed. A later throwaway
// emulator of the same seed starts from a copy of it — the certificates, keys, seed.json and
// a snapshot of the seeded database, taken before the first served a request — instead of
// generating and seeding anew: the same data, in a few milliseconds.

// throwawayFiles are the files of a seeded data folder a copy needs; the database is the
// snapshot's.
var throwawayFiles = []string{"ca.pem", "ca-key.pem", "server.pem", "server-key.pem", "app-cert.pem", "app-key.pem",
	"signing-key.pem", "app.pfx", "app.pem", seedFile}

// maxThrowawaySnapshot bounds what a process keeps in memory: the demo and msp seeds fit, the
// large seed (100,000 mailboxes) is seeded each time.
const maxThrowawaySnapshot = 32 << 20

// throwawayFolder is a seeded throwaway data folder, by file name.
type throwawayFolder struct {
	dir   string // the folder the files came from, named in seed.json
	files map[string][]byte
}

var throwaways struct {
	sync.Mutex
	bySeed map[string]*throwawayFolder
}

func throwawaySeed(seed string) string {
	if seed == "" {
		return store.SeedDemo
	}
	return seed
}

// restoreThrowaway writes the process's copy of a seeded throwaway folder for seed into dir;
// false when there is none yet.
func restoreThrowaway(dir, seed string) (bool, error) {
	throwaways.Lock()
	f := throwaways.bySeed[throwawaySeed(seed)]
	throwaways.Unlock()
	if f == nil {
		return false, nil
	}
	for name, b := range f.files {
		if name == seedFile {
			var err error
			if b, err = movedSeedFile(b, f.dir, dir); err != nil {
				return false, err
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return false, fmt.Errorf("write %s: %w", name, err)
		}
	}
	return true, nil
}

// movedSeedFile is seed.json with the paths of its certificate files moved from one folder to
// another.
func movedSeedFile(b []byte, from, to string) ([]byte, error) {
	var tenants []TenantInfo
	if err := json.Unmarshal(b, &tenants); err != nil {
		return nil, err
	}
	move := func(p string) string {
		if rel, ok := strings.CutPrefix(p, from+string(filepath.Separator)); ok {
			return filepath.Join(to, rel)
		}
		return p
	}
	for i := range tenants {
		for j := range tenants[i].Apps {
			a := &tenants[i].Apps[j]
			a.CertificateFile, a.CertificatePEMFile = move(a.CertificateFile), move(a.CertificatePEMFile)
		}
	}
	return json.MarshalIndent(tenants, "", "  ")
}

// keepThrowaway remembers a freshly seeded throwaway folder (its files and a snapshot of its
// database) for the next throwaway emulators of seed. Nothing is kept when one is already, or
// when the folder is too large.
func keepThrowaway(ctx context.Context, s *store.SQLite, dir, seed string) error {
	seed = throwawaySeed(seed)
	if seed == store.SeedLarge {
		return nil
	}
	throwaways.Lock()
	kept := throwaways.bySeed[seed] != nil
	throwaways.Unlock()
	if kept {
		return nil
	}
	f := &throwawayFolder{dir: dir, files: map[string][]byte{}}
	size := 0
	for _, name := range throwawayFiles {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		f.files[name], size = b, size+len(b)
	}
	snap := filepath.Join(dir, "snapshot.db")
	defer os.Remove(snap)
	if err := s.Snapshot(ctx, snap); err != nil {
		return err
	}
	b, err := os.ReadFile(snap)
	if err != nil {
		return err
	}
	if size+len(b) > maxThrowawaySnapshot {
		return nil
	}
	f.files["emulator.db"] = b
	throwaways.Lock()
	defer throwaways.Unlock()
	if throwaways.bySeed == nil {
		throwaways.bySeed = map[string]*throwawayFolder{}
	}
	if throwaways.bySeed[seed] == nil {
		throwaways.bySeed[seed] = f
	}
	return nil
}
