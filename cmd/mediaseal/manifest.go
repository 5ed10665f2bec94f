package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

// readManifest reads the objects of an apply file ("-" is stdin): YAML or
// JSON, one object, a list of objects, several YAML documents, or a list
// answer of the API ({"entities": [...]}).
func readManifest(path string) ([]map[string]any, error) {
	var (
		data []byte
		err  error
	)
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data)) // YAML is a superset of JSON
	for doc := 0; ; doc++ {
		var v any
		if err := dec.Decode(&v); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		objs, err := manifestObjects(v)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, doc+1, err)
		}
		out = append(out, objs...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no objects", path)
	}
	return out, nil
}

func manifestObjects(v any) ([]map[string]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		if ents, ok := x["entities"]; ok && len(x) <= 2 {
			return manifestObjects(ents)
		}
		return []map[string]any{x}, nil
	case []any:
		var out []map[string]any
		for i, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("item %d is a %T, want an object", i, e)
			}
			out = append(out, m)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("a %T, want an object or a list of objects", v)
	}
}

// jsonBody marshals an object for the API without the fields the server
// owns (so `get -o json` output can be applied again).
func jsonBody(obj map[string]any, serverOwned ...string) ([]byte, error) {
	clean := make(map[string]any, len(obj))
	for k, v := range obj {
		clean[k] = v
	}
	for _, k := range serverOwned {
		delete(clean, k)
	}
	return json.Marshal(clean)
}

// stringField returns obj[k] when it is a string.
func stringField(obj map[string]any, k string) string {
	s, _ := obj[k].(string)
	return s
}
