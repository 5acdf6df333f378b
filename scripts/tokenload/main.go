// Command tokenload is the bench's helper for the emulator's token endpoint: it writes the
// client-credentials form (a fresh certificate client assertion of the seeded app, as MSAL
// sends it) that wrk posts, and measures an emulator's start: from the process's start to the
// first token it issues. Talks to 127.0.0.1 only.
//
//	tokenload -data DIR -body          the form body for DIR's emulator
//	tokenload -data DIR -url           its v2 token endpoint
//	tokenload -data DIR -start CMD...  run CMD (an emulator on DIR) and print the ms to the first token
package main

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

type info struct {
	URL     string `json:"url"`
	CAFile  string `json:"ca_file"`
	Tenants []struct {
		ID   string `json:"id"`
		Apps []struct {
			AppID   string `json:"app_id"`
			PEMFile string `json:"certificate_pem_file"`
		} `json:"apps"`
	} `json:"tenants"`
}

func main() {
	data := flag.String("data", "", "the emulator's data folder")
	body := flag.Bool("body", false, "print the token request's form body")
	printURL := flag.Bool("url", false, "print the token endpoint")
	start := flag.Bool("start", false, "run the command after the flags and time its first token")
	flag.Parse()
	switch {
	case *body || *printURL:
		in, err := load(*data)
		if err != nil {
			fail(err)
		}
		if *printURL {
			fmt.Println(endpoint(in))
			return
		}
		form, err := tokenForm(in)
		if err != nil {
			fail(err)
		}
		fmt.Print(form)
	case *start:
		ms, err := firstToken(*data, flag.Args())
		if err != nil {
			fail(err)
		}
		fmt.Printf("%.1f\n", ms)
	default:
		fail(errors.New("give -body, -url or -start"))
	}
}

func load(dir string) (*info, error) {
	b, err := os.ReadFile(filepath.Join(dir, "emulator.json"))
	if err != nil {
		return nil, err
	}
	var in info
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, err
	}
	if len(in.Tenants) == 0 || len(in.Tenants[0].Apps) == 0 {
		return nil, errors.New("emulator.json names no app")
	}
	return &in, nil
}

func endpoint(in *info) string {
	return in.URL + "/" + in.Tenants[0].ID + "/oauth2/v2.0/token"
}

// tokenForm is the client-credentials request MSAL Go sends: a PS256 assertion with x5t#S256,
// valid ten minutes.
func tokenForm(in *info) (string, error) {
	app := in.Tenants[0].Apps[0]
	b, err := os.ReadFile(app.PEMFile)
	if err != nil {
		return "", err
	}
	var cert []byte
	var key *rsa.PrivateKey
	for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
		switch blk.Type {
		case "CERTIFICATE":
			cert = blk.Bytes
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		case "PRIVATE KEY":
			var k any
			if k, err = x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
				key, _ = k.(*rsa.PrivateKey)
			}
		}
		if err != nil {
			return "", err
		}
	}
	if cert == nil || key == nil {
		return "", fmt.Errorf("%s holds no certificate and RSA key", app.PEMFile)
	}
	tp := sha256.Sum256(cert)
	enc := base64.RawURLEncoding
	head, _ := json.Marshal(map[string]string{"alg": "PS256", "typ": "JWT", "x5t#S256": enc.EncodeToString(tp[:])})
	now := time.Now()
	jti := make([]byte, 16)
	rand.Read(jti)
	claims, _ := json.Marshal(map[string]any{
		"aud": endpoint(in), "iss": app.AppID, "sub": app.AppID, "jti": fmt.Sprintf("%x", jti),
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	})
	signing := enc.EncodeToString(head) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	if err != nil {
		return "", err
	}
	return url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {app.AppID},
		"scope":                 {"https://outlook.office365.com/.default"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {signing + "." + enc.EncodeToString(sig)},
	}.Encode(), nil
}

// firstToken starts cmd and asks for a token as fast as it can until one comes, returning the
// milliseconds from the start. The process is stopped afterwards.
func firstToken(dir string, cmd []string) (float64, error) {
	if len(cmd) == 0 {
		return 0, errors.New("-start needs a command")
	}
	os.Remove(filepath.Join(dir, "emulator.json"))
	t0 := time.Now()
	c := exec.Command(cmd[0], cmd[1:]...)
	if err := c.Start(); err != nil {
		return 0, err
	}
	defer func() { c.Process.Signal(os.Interrupt); c.Wait() }()
	var hc *http.Client
	var form, target string
	for deadline := t0.Add(30 * time.Second); time.Now().Before(deadline); {
		if hc == nil {
			in, err := load(dir)
			if err != nil {
				time.Sleep(200 * time.Microsecond)
				continue
			}
			pool := x509.NewCertPool()
			ca, _ := os.ReadFile(in.CAFile)
			pool.AppendCertsFromPEM(ca)
			hc = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			if form, err = tokenForm(in); err != nil {
				return 0, err
			}
			target = endpoint(in)
		}
		resp, err := hc.Post(target, "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			time.Sleep(200 * time.Microsecond)
			continue
		}
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && strings.Contains(buf.String(), `"access_token"`) {
			return float64(time.Since(t0).Microseconds()) / 1000, nil
		}
		return 0, fmt.Errorf("token endpoint answered %d: %.300s", resp.StatusCode, buf.String())
	}
	return 0, errors.New("no token within 30 s")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "tokenload:", err)
	os.Exit(1)
}
