package tokencache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/gofrs/flock"
)

// Options configure a Cache. The zero value keeps the key in a file beside
// the cache and logs nothing.
type Options struct {
	// KeyFile is where the 32-byte AES key lives when no OS keyring is
	// reachable (0600). Default: filepath.Join(filepath.Dir(path), "cache.key").
	KeyFile string
	// Keyring overrides key storage (tests; a real OS keyring backend when one
	// is reachable). When set, KeyFile is not used.
	Keyring Keyring
	// Logger reports a corrupt cache moved aside. Nil discards.
	Logger *slog.Logger
}

// Cache persists MSAL's token cache in one encrypted file, shared safely by
// every process that opens the same path. Pass it to MSAL with
// public.WithCache or confidential.WithCache. It is safe for concurrent use.
type Cache struct {
	path string
	key  []byte
	log  *slog.Logger
	lock *flock.Flock

	mu sync.Mutex // serialises this Cache's operations; the flock serialises processes
	// bases holds, per MSAL cache object, the blob it was last loaded from or
	// exported: the "base" of the three-way merge in Export.
	bases map[any][]byte
	now   func() time.Time
}

var _ cache.ExportReplace = (*Cache)(nil)

const (
	// defaultTimeout bounds waiting for another process's lock when the
	// caller's context has no deadline, as cache.ExportReplace asks.
	defaultTimeout = 30 * time.Second
	lockRetry      = 2 * time.Millisecond
	maxBases       = 64
)

// emptyBlob is what an absent or corrupt cache loads as: MSAL's empty cache.
var emptyBlob = []byte("{}")

// New opens the cache at path, creating its directory (0700) and its key on
// first use. The file itself is created by the first Export.
func New(path string, opts Options) (*Cache, error) {
	if path == "" {
		return nil, errors.New("tokencache: empty cache path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("tokencache: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("tokencache: create cache directory: %w", err)
	}
	c := &Cache{
		path:  abs,
		log:   log,
		lock:  NewLock(abs + ".lock"),
		bases: map[any][]byte{},
		now:   time.Now,
	}
	if opts.Keyring != nil {
		// Under the lock, so two processes starting at once agree on one key.
		ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
		defer cancel()
		if err := c.acquire(ctx, true); err != nil {
			return nil, err
		}
		c.key, err = keyFromKeyring(opts.Keyring, abs)
		c.release()
	} else {
		keyFile := opts.KeyFile
		if keyFile == "" {
			keyFile = filepath.Join(filepath.Dir(abs), "cache.key")
		}
		c.key, err = keyFromFile(keyFile, log)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Path is the cache file.
func (c *Cache) Path() string { return c.path }

// Replace loads the cache file into u (MSAL's in-memory cache), replacing
// what u held. A missing file loads as an empty cache. A file that cannot be
// decrypted or parsed is moved aside and reported, and u gets an empty cache:
// Replace never fails a sign-in over a bad file.
func (c *Cache) Replace(ctx context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	c.mu.Lock()
	defer c.mu.Unlock()

	// Readers share the lock: writers replace the file by rename, so a reader
	// only needs to keep a writer from renaming under it (Windows) and from
	// moving aside a file it has just found bad. A bad file is dealt with
	// under the exclusive lock, after looking again.
	for _, exclusive := range []bool{false, true} {
		if err := c.acquire(ctx, exclusive); err != nil {
			return err
		}
		plain, reason, err := c.read()
		if err == nil && reason == "" && plain != nil {
			if u.Unmarshal(plain) != nil {
				// Never log MSAL's error text: it can quote the blob.
				reason = "contents are not an MSAL token cache"
			}
		}
		if err != nil || (reason != "" && !exclusive) {
			c.release()
			if err != nil {
				return err
			}
			continue
		}
		if reason != "" {
			c.quarantine(reason)
			plain = nil
		}
		c.release()
		if plain == nil {
			if err := u.Unmarshal(emptyBlob); err != nil {
				return fmt.Errorf("tokencache: load empty cache: %w", err)
			}
		}
		c.setBase(u, plain)
		return nil
	}
	panic("unreachable")
}

// Export writes m (MSAL's in-memory cache) to the file, encrypted, merging
// in what other processes wrote since this one loaded it (see the package
// doc). It writes nothing when m has not changed since it was last loaded or
// exported.
func (c *Cache) Export(ctx context.Context, m cache.Marshaler, _ cache.ExportHints) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return err
	}
	ours, err := m.Marshal()
	if err != nil {
		return fmt.Errorf("tokencache: marshal cache: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()

	base, known := c.bases[accessorKey(m)]
	if known && bytes.Equal(ours, base) {
		return nil
	}
	if err := c.acquire(ctx, true); err != nil {
		return err
	}
	defer c.release()
	theirs, reason, err := c.read()
	if err != nil {
		return err
	}
	var out []byte
	switch {
	case reason != "":
		// What was on disk is lost; ours is the best there is.
		c.quarantine(reason)
		theirs, out = nil, ours
	case known && bytes.Equal(theirs, base):
		// Nobody wrote since we loaded (both nil: still no file).
		out = ours
	default:
		// Someone wrote, or deleted the file (Disconnect), since we loaded:
		// apply only our changes to what is there now.
		if !known {
			base = nil
		}
		out = merge3(base, ours, theirs)
	}
	if theirs == nil || !bytes.Equal(out, theirs) {
		file, err := seal(c.key, out)
		if err != nil {
			return err
		}
		removeStaleTemps(c.path)
		if err := writeAtomic(c.path, file); err != nil {
			return fmt.Errorf("tokencache: write %s: %w", c.path, err)
		}
	}
	c.setBase(m, ours)
	return nil
}

// Delete removes the cache file and any corrupt copies moved aside from it,
// so that Disconnect forgets that connection's tokens. A missing file is not
// an error. The lock file stays: removing it could let two processes hold
// "the" lock at once.
func (c *Cache) Delete() error {
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.acquire(ctx, true); err != nil {
		return err
	}
	defer c.release()
	err := os.Remove(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("tokencache: delete %s: %w", c.path, err)
	}
	aside, _ := filepath.Glob(escapeGlob(c.path+".corrupt-") + "*")
	for _, f := range aside {
		os.Remove(f)
	}
	removeStaleTemps(c.path)
	syncDir(filepath.Dir(c.path))
	return nil
}

// read returns the decrypted blob: nil with no reason when there is no file,
// nil with a reason (safe to log) when the file is corrupt, and an error only
// when the file could not be read at all.
func (c *Cache) read() (plain []byte, reason string, err error) {
	file, err := readFile(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("tokencache: read %s: %w", c.path, err)
	}
	plain, err = open(c.key, file)
	if err != nil {
		return nil, err.Error(), nil
	}
	return plain, "", nil
}

// quarantine moves the corrupt cache file aside and reports it. Hold the
// exclusive lock.
func (c *Cache) quarantine(reason string) {
	aside, err := moveAside(c.path, c.now())
	report := &CorruptError{Path: c.path, MovedTo: aside, Reason: reason}
	if err != nil {
		c.log.Warn("token cache is corrupt and could not be moved aside",
			"path", c.path, "err", report, "move_err", err)
		return
	}
	c.log.Warn("token cache is corrupt; moved aside, starting empty",
		"path", c.path, "moved_to", aside, "err", report)
}

func (c *Cache) acquire(ctx context.Context, exclusive bool) error {
	try := c.lock.TryRLockContext
	if exclusive {
		try = c.lock.TryLockContext
	}
	ok, err := try(ctx, lockRetry)
	if err == nil && !ok {
		err = errors.New("lock not acquired")
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("tokencache: waiting for %s (held by another exoctl process?): %w", c.lock.Path(), ctx.Err())
		}
		return fmt.Errorf("tokencache: lock %s: %w", c.lock.Path(), err)
	}
	return nil
}

func (c *Cache) release() {
	// Unlock closes the lock file; the OS drops the lock with it.
	_ = c.lock.Unlock()
}

// setBase records what the MSAL cache object v now holds. MSAL hands its
// *storage.Manager to both Replace and Export, so pointers identify it; other
// kinds share one slot.
func (c *Cache) setBase(v any, blob []byte) {
	k := accessorKey(v)
	if _, ok := c.bases[k]; !ok && len(c.bases) >= maxBases {
		clear(c.bases) // forgetting a base only turns a merge into a union
	}
	c.bases[k] = blob
}

type sharedSlot struct{}

func accessorKey(v any) any {
	if v != nil && reflect.ValueOf(v).Kind() == reflect.Pointer {
		return v
	}
	return sharedSlot{}
}

func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, defaultTimeout)
}
