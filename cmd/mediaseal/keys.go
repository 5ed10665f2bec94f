package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

const keysPath = "/api/v2/keys"

// newKeys is `mediaseal keys`: the keys registry through the control-plane
// API (references and metadata only; key material never crosses it).
// Deleting a key crypto-shreds its recordings and needs a quorum, so it is
// not offered here.
func newKeys(g *globals) *cobra.Command {
	f := &apiFlags{g: g}
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "List, show, register and bind key references (control-plane API)",
	}
	f.register(cmd)
	cmd.AddCommand(
		&cobra.Command{
			Use: "list", Short: "List registered keys", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return keysList(cmd, f) },
		},
		&cobra.Command{
			Use: "get ID", Short: "Show one key's metadata (JSON)", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error { return showOne(cmd, f, keysPath, args[0]) },
		},
		newKeysApply(f),
		newKeysBind(f),
	)
	return cmd
}

type keyRow struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	KeyType            string `json:"keyType"`
	Region             string `json:"region"`
	ARN                string `json:"arn"`
	Label              string `json:"label"`
	KeyState           string `json:"keyState"`
	AutoRotate         bool   `json:"autoRotate"`
	RotationPeriodDays int    `json:"rotationPeriodDays"`
	Binding            struct {
		Status         string `json:"status"`
		CurrentVersion string `json:"currentVersion"`
		Error          string `json:"error"`
	} `json:"binding"`
}

func keysList(cmd *cobra.Command, f *apiFlags) error {
	c, err := f.client()
	if err != nil {
		return err
	}
	ctx, cancel := cmdContext(cmd)
	defer cancel()
	r, err := c.do(ctx, http.MethodGet, keysPath, nil, nil)
	if err != nil {
		return err
	}
	if f.output == "json" {
		return printJSON(cmd.OutOrStdout(), r.Body)
	}
	var list struct {
		Entities []keyRow `json:"entities"`
	}
	if err := json.Unmarshal(r.Body, &list); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tREGION\tSTATE\tBINDING\tVERSION\tROTATION\tNAME")
	for _, k := range list.Entities {
		rot := "manual"
		if k.AutoRotate {
			rot = fmt.Sprintf("every %dd", k.RotationPeriodDays)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.KeyType, k.Region, k.KeyState,
			k.Binding.Status, k.Binding.CurrentVersion, rot, k.Name)
	}
	return tw.Flush()
}

func newKeysApply(f *apiFlags) *cobra.Command {
	var (
		file string
		bind bool
	)
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Register keys from a YAML or JSON file (and update their rotation settings)",
		Long: `Each key in the file is registered when its id is unknown (or it has none).
A key that exists keeps its registration (name, type, region, ARN or label
cannot change: a different value is an error naming the field); only
autoRotate and rotationPeriodDays are updated. With --bind every applied
key then goes through the bind handshake (the KMS confirms it exists, is
enabled and is in the organisation's region).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, err := readManifest(file)
			if err != nil {
				return err
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			ctx, cancel := cmdContext(cmd)
			defer cancel()
			for i, obj := range objs {
				id, msg, err := applyKey(ctx, c, obj)
				if err != nil {
					return fmt.Errorf("key %d of %d: %w", i+1, len(objs), err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), msg)
				if bind {
					k, err := bindKey(ctx, c, id, nil)
					if err != nil {
						return fmt.Errorf("key %s: bind: %w", id, err)
					}
					fmt.Fprintf(cmd.OutOrStdout(), "key %s %s (version %s)\n", id, k.Binding.Status, k.Binding.CurrentVersion)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", `key file (YAML or JSON; "-" for stdin)`)
	cmd.Flags().BoolVar(&bind, "bind", false, "run the bind handshake for every applied key")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

// applyKey registers one key or updates its rotation settings.
func applyKey(ctx context.Context, c *apiClient, obj map[string]any) (string, string, error) {
	id := stringField(obj, "id")
	var cur keyRow
	var err error
	if id != "" {
		err = c.getJSON(ctx, keysPath+"/"+url.PathEscape(id), &cur)
		if err != nil && !errors.Is(err, errNotFound) {
			return "", "", err
		}
	}
	if id == "" || err != nil {
		body, err := jsonBody(obj, "version", "createdAt", "updatedAt", "binding", "encryptionType")
		if err != nil {
			return "", "", err
		}
		r, err := c.do(ctx, http.MethodPost, keysPath, body, nil)
		if err != nil {
			return "", "", err
		}
		var k keyRow
		if err := json.Unmarshal(r.Body, &k); err != nil {
			return "", "", err
		}
		return k.ID, fmt.Sprintf("key %s registered (%s, %s)", k.ID, k.KeyType, k.Binding.Status), nil
	}
	for field, have := range map[string]string{"name": cur.Name, "keyType": cur.KeyType, "region": cur.Region, "arn": cur.ARN, "label": cur.Label} {
		if want, ok := obj[field].(string); ok && want != have {
			return "", "", fmt.Errorf("key %s: %s is %q, the file says %q: a registration cannot change (register a new key)", id, field, have, want)
		}
	}
	rot := map[string]any{}
	for _, k := range []string{"autoRotate", "rotationPeriodDays"} {
		if v, ok := obj[k]; ok {
			rot[k] = v
		}
	}
	if len(rot) == 0 {
		return id, fmt.Sprintf("key %s unchanged", id), nil
	}
	body, err := json.Marshal(rot)
	if err != nil {
		return "", "", err
	}
	r, err := c.do(ctx, http.MethodPut, keysPath+"/"+url.PathEscape(id)+"/rotation", body, nil)
	if err != nil {
		return "", "", err
	}
	var k keyRow
	if err := json.Unmarshal(r.Body, &k); err != nil {
		return "", "", err
	}
	rotation := "manual rotation"
	if k.AutoRotate {
		rotation = fmt.Sprintf("rotates every %d days", k.RotationPeriodDays)
	}
	return id, fmt.Sprintf("key %s exists; %s", id, rotation), nil
}

// bindKey runs the bind handshake (body nil: revalidate as registered).
func bindKey(ctx context.Context, c *apiClient, id string, body []byte) (keyRow, error) {
	r, err := c.do(ctx, http.MethodPost, keysPath+"/"+url.PathEscape(id), body, nil)
	if err != nil {
		return keyRow{}, err
	}
	var k keyRow
	err = json.Unmarshal(r.Body, &k)
	return k, err
}

func newKeysBind(f *apiFlags) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "bind ID [-f FILE]",
		Short: "Run the bind handshake for a registered key",
		Long: `The gateway asks the key's KMS to describe it and records the result: the
key must exist, be enabled and be in the organisation's region. FILE (YAML
or JSON) is the optional bind payload of the reference guide (name,
keyProvider {providerType, region, keyArn|keyLabel}, autoRotate, ...);
every field given must agree with the registration.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var body []byte
			if file != "" {
				objs, err := readManifest(file)
				if err != nil {
					return err
				}
				if len(objs) != 1 {
					return fmt.Errorf("%s: %d objects, want one bind payload", file, len(objs))
				}
				if body, err = json.Marshal(objs[0]); err != nil {
					return err
				}
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			ctx, cancel := cmdContext(cmd)
			defer cancel()
			k, err := bindKey(ctx, c, args[0], body)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key %s %s (version %s)\n", k.ID, k.Binding.Status, k.Binding.CurrentVersion)
			if k.Binding.Status != "BOUND" {
				return fmt.Errorf("key %s not bound: %s", k.ID, k.Binding.Error)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "bind payload (YAML or JSON)")
	return cmd
}
