package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

func sampleKey(id, name string) store.Key {
	return store.Key{
		ID: id, Name: name, KeyType: "AWS_KMS", Region: "us-east-1",
		Ref:   "arn:aws:kms:us-east-1:123456789012:key/abcd1234-a123-456a-8b12-cd1234ef5678",
		State: "ENABLED", Description: "Primary key for PCI-DSS compliant call recording encryption",
	}
}

func TestKeysRegistry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, _ store.Config) {
		ctx := context.Background()
		k, err := s.CreateKey(ctx, sampleKey("", "RecordingEncryptionCMK_01"))
		if err != nil {
			t.Fatal(err)
		}
		if k.ID == "" || k.Version != 1 {
			t.Fatalf("created %+v", k)
		}
		got, err := s.GetKey(ctx, k.ID)
		if err != nil || got.Name != k.Name || got.Ref != k.Ref || got.Region != "us-east-1" || got.Binding.Status != store.BindingNone {
			t.Fatalf("GetKey = %+v, %v", got, err)
		}

		checked := time.Date(2026, 2, 3, 4, 5, 6, 7, time.UTC)
		bound, err := s.UpdateKeyBinding(ctx, k.ID, store.Binding{Status: store.BindingBound, CheckedAt: checked,
			KMSState: "ENABLED", KMSRegion: "us-east-1", KMSVersion: "v1"})
		if err != nil || !bound.Binding.BoundAt.Equal(checked) || bound.Binding.KMSVersion != "v1" || bound.Version != 2 {
			t.Fatalf("bind = %+v, %v", bound, err)
		}
		failed, err := s.UpdateKeyBinding(ctx, k.ID, store.Binding{Status: store.BindingFailed, CheckedAt: checked.Add(time.Hour),
			KMSState: "DISABLED", Error: "key disabled"})
		if err != nil || failed.Binding.Status != store.BindingFailed || !failed.Binding.BoundAt.Equal(checked) ||
			!failed.Binding.CheckedAt.Equal(checked.Add(time.Hour)) || failed.Binding.Error != "key disabled" {
			t.Fatalf("failed bind = %+v, %v", failed.Binding, err)
		}
		rot, err := s.UpdateKeyRotation(ctx, k.ID, store.Rotation{AutoRotate: true, PeriodDays: 90})
		if err != nil || !rot.Rotation.AutoRotate || rot.Rotation.PeriodDays != 90 {
			t.Fatalf("rotation = %+v, %v", rot.Rotation, err)
		}
		st, err := s.UpdateKeyState(ctx, k.ID, "DISABLED")
		if err != nil || st.State != "DISABLED" || st.Version != 5 {
			t.Fatalf("state = %+v, %v", st, err)
		}

		steps := []struct {
			name    string
			do      func() error
			wantErr error
		}{
			{"duplicate name", func() error { _, err := s.CreateKey(ctx, sampleKey("", k.Name)); return err }, store.ErrDuplicate},
			{"duplicate id", func() error { _, err := s.CreateKey(ctx, sampleKey(k.ID, "other")); return err }, store.ErrDuplicate},
			{"missing fields", func() error { _, err := s.CreateKey(ctx, store.Key{Name: "x"}); return err }, store.ErrInvalid},
			{"get missing", func() error { _, err := s.GetKey(ctx, "missing"); return err }, store.ErrNotFound},
			{"bind missing", func() error {
				_, err := s.UpdateKeyBinding(ctx, "missing", store.Binding{Status: store.BindingBound})
				return err
			}, store.ErrNotFound},
			{"bad binding status", func() error { _, err := s.UpdateKeyBinding(ctx, k.ID, store.Binding{Status: "MAYBE"}); return err }, store.ErrInvalid},
			{"negative period", func() error { _, err := s.UpdateKeyRotation(ctx, k.ID, store.Rotation{PeriodDays: -1}); return err }, store.ErrInvalid},
			{"rotation missing", func() error { _, err := s.UpdateKeyRotation(ctx, "missing", store.Rotation{}); return err }, store.ErrNotFound},
			{"empty state", func() error { _, err := s.UpdateKeyState(ctx, k.ID, ""); return err }, store.ErrInvalid},
		}
		for _, tc := range steps {
			if err := tc.do(); !errors.Is(err, tc.wantErr) {
				t.Fatalf("%s: %v, want %v", tc.name, err, tc.wantErr)
			}
		}

		if _, err := s.CreateKey(ctx, sampleKey("cmk-recording-key-01", "A-first")); err != nil {
			t.Fatal(err)
		}
		list, err := s.ListKeys(ctx)
		if err != nil || len(list) != 2 || list[0].Name != "A-first" || list[1].ID != k.ID {
			t.Fatalf("ListKeys = %+v, %v", list, err)
		}
	})
}
