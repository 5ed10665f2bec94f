package auth_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// FuzzParseToken: the parser never panics and accepts only the one token
// it issued; any other input (mutations included) is refused.
func FuzzParseToken(f *testing.F) {
	e := newEnv(f, auth.Config{})
	secret := e.principal(f, "ka", store.PrincipalService, auth.RoleKeyAdmin)
	good, err := e.svc.Issue(context.Background(), auth.TokenRequest{ClientID: "ka", ClientSecret: secret})
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good.AccessToken, ".")
	f.Add(good.AccessToken)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add("eyJhbGciOiJub25lIn0." + parts[1] + ".")
	f.Add("eyJhbGciOiJIUzI1NiIsImtpZCI6IngifQ." + parts[1] + "." + parts[2])
	f.Add("..")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := e.svc.ParseToken(context.Background(), tok)
		if err == nil && tok != good.AccessToken {
			// Only a byte-identical token may verify: JWS compact
			// serialization has no malleable bits once base64url is strict.
			if c.ID != good.JTI {
				t.Fatalf("accepted a token it did not issue: %q", tok)
			}
			t.Fatalf("accepted a modified token: %q", tok)
		}
	})
}
