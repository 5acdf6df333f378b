package identity

import (
	"net/http"

	"github.com/exoctl/exoctl/emulator/internal/token"
)

// refreshCodec mints and reads the emulator's refresh tokens.
type refreshCodec struct {
	keys *token.Keys
}

func (s *Server) passwordGrant(w http.ResponseWriter, req *tokenRequest) *aadError {
	return errUnsupportedGrant("password")
}

func (s *Server) refreshGrant(w http.ResponseWriter, req *tokenRequest) *aadError {
	return errUnsupportedGrant("refresh_token")
}
