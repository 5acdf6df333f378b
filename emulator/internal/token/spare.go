package token

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Spare keys: RSA-2048 keys made ahead of need, kept in the user's cache folder (0700, each
// key 0600), for emulators that start on a new data folder. Making the two keys of a new folder
// is most of its start (50-150 ms of CPU each); a start takes its keys from here instead, and
// a running emulator makes new ones in the background (SpareKeys.Refill). A spare key goes to
// one data folder only and leaves the cache when taken, so no two data folders share a key:
// a token of one emulator never validates against another.
//
// SpareEnv turns them on: "auto" for the user's cache folder (what exoctl-emulator sets unless
// told otherwise), or another folder. Unset or "off", nothing is made or taken ahead: a program or
// test that starts emulators in-process writes nothing outside their data folders.
const SpareEnv = "EXOCTL_EMULATOR_SPARE"

// SpareAuto is SpareEnv's value for the user's cache folder.
const SpareAuto = "auto"

// spareTarget is how many spare keys Refill keeps: one new data folder's (its app
// certificate's and its signing key).
const spareTarget = 2

// SpareKeys is a folder of spare keys; the zero value (no folder) holds none.
type SpareKeys struct {
	Dir string
}

// SpareDir is the folder of what emulators make ahead for new data folders (keys, and the
// emulator's spare seeded folders): $EXOCTL_EMULATOR_SPARE, or exoctl/emulator-spare in the
// user's cache folder when it is "auto"; "" when the variable is unset or "off", on Windows, or
// when there is no cache folder.
func SpareDir() string {
	v := strings.TrimSpace(os.Getenv(SpareEnv))
	switch {
	case v == "" || strings.EqualFold(v, "off") || v == "0" || strings.EqualFold(v, "false"):
		return ""
	case runtime.GOOS == "windows":
		return "" // file modes do not say there who may read a folder
	case !strings.EqualFold(v, SpareAuto):
		return v
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(c, "exoctl", "emulator-spare")
}

// DefaultSpareKeys is the user's spare key folder: keys in SpareDir; none when that is off.
func DefaultSpareKeys() SpareKeys {
	d := SpareDir()
	if d == "" {
		return SpareKeys{}
	}
	return SpareKeys{Dir: filepath.Join(d, "keys")}
}

// private reports whether the folder exists and only its owner may enter it: a key others
// could have written or read must not sign tokens.
func (s SpareKeys) private() bool {
	fi, err := os.Lstat(s.Dir)
	return err == nil && fi.IsDir() && fi.Mode().Perm()&0o077 == 0
}

// Take removes one spare key from the folder and returns it; nil when there is none (or no
// folder). Two processes never get the same key: a key is claimed by renaming its file.
func (s SpareKeys) Take() *rsa.PrivateKey {
	if s.Dir == "" || !s.private() {
		return nil
	}
	names, err := s.keys()
	if err != nil {
		return nil
	}
	for _, name := range names {
		path := filepath.Join(s.Dir, name)
		claimed := path + ".taken-" + randomHex()
		if os.Rename(path, claimed) != nil {
			continue // another process took it
		}
		k := readSpare(claimed)
		_ = os.Remove(claimed)
		if k != nil {
			return k
		}
	}
	return nil
}

// readSpare reads a PKCS#8 RSA key file that only its owner can read; nil otherwise.
func readSpare(path string) *rsa.PrivateKey {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 != 0 {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok || rk.N.BitLen() != 2048 {
		return nil
	}
	return rk
}

// keys lists the spare key files in name order.
func (s SpareKeys) keys() ([]string, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".pem") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// Refill makes keys, one at a time (a core stays free for the emulator's requests), until the
// folder holds enough for one new data folder. It creates the folder (0700) if need be and
// refuses one that others may enter.
func (s SpareKeys) Refill() error {
	if s.Dir == "" {
		return nil
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("spare key folder: %w", err)
	}
	if !s.private() {
		return fmt.Errorf("spare key folder %s may be read by others: make it 0700 or set %s=off", s.Dir, SpareEnv)
	}
	for {
		names, err := s.keys()
		if err != nil {
			return err
		}
		if len(names) >= spareTarget {
			return nil
		}
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return err
		}
		if err := writeSpare(filepath.Join(s.Dir, randomHex()+".pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
			return err
		}
	}
}

// writeSpare writes a key file (0600) whole under its final name: a reader never sees half.
func writeSpare(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err = errors.Join(err, f.Close()); err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// spare is the process's spare key folder, read from the environment once.
var spare = sync.OnceValue(DefaultSpareKeys) // a variable for tests

// RefillSpareKeys refills the process's spare key folder (see SpareKeys); a no-op when spare
// keys are off.
func RefillSpareKeys() error { return spare().Refill() }
