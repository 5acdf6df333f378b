package tokencache

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// File layout, version 1:
//
//	offset  size  field
//	0       8     magic "EXOCTLTC"
//	8       1     version (1)
//	9       12    AES-GCM nonce (random per write)
//	21      n+16  AES-256-GCM ciphertext of MSAL's blob, with its 16-byte tag
//
// The 9-byte header is the GCM additional data, so a changed magic or version
// fails authentication like any other damage.
const (
	magic         = "EXOCTLTC"
	formatVersion = 1
	headerLen     = len(magic) + 1
	nonceLen      = 12
	tagLen        = 16
	keyLen        = 32
)

// ErrCorrupt is wrapped in what is reported when a cache file could not be
// decrypted or parsed; such a file is moved aside and the cache starts empty.
var ErrCorrupt = errors.New("token cache is corrupt")

// CorruptError reports a cache file that was moved aside. It wraps ErrCorrupt
// and never carries the file's contents.
type CorruptError struct {
	Path    string // the cache file
	MovedTo string // where it now is; empty if it could not be moved
	Reason  string // what was wrong, in words safe to log
}

func (e *CorruptError) Error() string {
	msg := fmt.Sprintf("token cache %s is corrupt (%s)", e.Path, e.Reason)
	if e.MovedTo != "" {
		msg += "; moved aside to " + e.MovedTo
	}
	return msg + "; starting with an empty cache, sign in again if asked"
}

func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// seal encrypts an MSAL blob into the file layout.
func seal(key, plain []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, headerLen+nonceLen, headerLen+nonceLen+len(plain)+tagLen)
	copy(out, magic)
	out[len(magic)] = formatVersion
	nonce := out[headerLen : headerLen+nonceLen]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("tokencache: random nonce: %w", err)
	}
	return aead.Seal(out, nonce, plain, out[:headerLen]), nil
}

// open decrypts a file made by seal. The error it returns is a reason safe to
// log: it names what is wrong, never what the file holds.
func open(key, file []byte) ([]byte, error) {
	if len(file) < headerLen {
		return nil, errors.New("truncated: shorter than its header")
	}
	if string(file[:len(magic)]) != magic {
		return nil, errors.New("not an exoctl token cache file")
	}
	if v := file[len(magic)]; v != formatVersion {
		return nil, fmt.Errorf("unknown format version %d", v)
	}
	if len(file) < headerLen+nonceLen+tagLen {
		return nil, errors.New("truncated: shorter than nonce and tag")
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := file[headerLen : headerLen+nonceLen]
	plain, err := aead.Open(nil, nonce, file[headerLen+nonceLen:], file[:headerLen])
	if err != nil {
		return nil, errors.New("cannot decrypt: wrong key, or the file is damaged or truncated")
	}
	return plain, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("tokencache: %w", err)
	}
	return cipher.NewGCM(block)
}
