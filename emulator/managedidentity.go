package emulator

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/exoctl/exoctl/emulator/internal/managedidentity"
)

// identityHeaderFile keeps IDENTITY_HEADER across restarts, so a shell that exported it keeps
// working.
const identityHeaderFile = "identity-header"

// managedIdentities builds the managed identity endpoints for the first tenant that has managed
// identities, and what emulator.json says about them.
func managedIdentities(dir string, cfg Config, base string, p *pki, tenants []TenantInfo, mc managedidentity.Config) (*ManagedIdentityEndpoints, *managedidentity.Server, error) {
	header, err := loadOrCreateIdentityHeader(filepath.Join(dir, identityHeaderFile))
	if err != nil {
		return nil, nil, err
	}
	arcDir := cfg.ArcKeyDir
	if arcDir == "" {
		arcDir = filepath.Join(dir, "azcmagent-tokens")
	}
	mc.IdentityHeader, mc.ArcKeyDir = header, arcDir
	for _, t := range tenants {
		if len(t.ManagedIdentities) == 0 {
			continue
		}
		mc.TenantID = t.ID
		if len(t.Users) > 0 {
			mc.CloudShellUser = t.Users[0].UPN
		}
		for _, m := range t.ManagedIdentities {
			mc.Identities = append(mc.Identities, managedidentity.Identity{
				Name: m.Name, ClientID: m.ClientID, ObjectID: m.ObjectID, ResourceID: m.ResourceID, SystemAssigned: m.SystemAssigned,
			})
		}
		break
	}
	var thumb string
	if len(p.serverCert.Certificate) > 0 {
		sum := sha1.Sum(p.serverCert.Certificate[0])
		thumb = strings.ToUpper(hex.EncodeToString(sum[:]))
	}
	info := &ManagedIdentityEndpoints{
		IMDSEndpoint:            base,
		AppServiceEndpoint:      base + managedidentity.AppServicePath,
		IdentityHeader:          header,
		CloudShellEndpoint:      base + managedidentity.CloudShellPath,
		CloudShellUser:          mc.CloudShellUser,
		ArcEndpoint:             base + managedidentity.ArcPath,
		ArcIMDSEndpoint:         base,
		ArcKeyDir:               arcDir,
		ServiceFabricEndpoint:   base + managedidentity.ServiceFabricPath,
		ServiceFabricThumbprint: thumb,
	}
	return info, managedidentity.New(mc), nil
}

func loadOrCreateIdentityHeader(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(b)) != "" {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	h := managedidentity.NewIdentityHeader()
	if err := os.WriteFile(path, []byte(h+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return h, nil
}
