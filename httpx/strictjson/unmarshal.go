package strictjson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
)

// Unmarshal decodes body into v after Check, and only when every object
// key names a field of its destination struct exactly: encoding/json
// would take "Name" or "NAME" for the field "name"; here that is an
// error naming the field, as is an unknown field. Type errors are
// encoding/json's (*json.UnmarshalTypeError).
func Unmarshal(body []byte, v any) error {
	if err := Check(body); err != nil {
		return err
	}
	// The tree only carries member names to fields; json.Unmarshal reads
	// the body in place, where a Decoder would copy it into buffers of its
	// own (the session API decodes a body per call, thousands at once).
	var tree any
	if err := json.Unmarshal(body, &tree); err != nil {
		return errorf("", "cannot decode: %v", err) // Check accepted it: not reached
	}
	if err := fields(tree, reflect.TypeOf(v), ""); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errorf("", "data after the JSON value") // Check refused it: not reached
	}
	return nil
}

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// fields walks the decoded tree along the destination type t.
func fields(tree any, t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		if t.Implements(unmarshalerType) {
			return nil
		}
		t = t.Elem()
	}
	if t == nil || t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(unmarshalerType) ||
		reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return nil // decodes itself (json.RawMessage, time.Time, ...): Check covered it
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := tree.(map[string]any)
		if !ok {
			return nil // a type error, reported by encoding/json
		}
		known := structFields(t)
		for k, val := range obj {
			at := join(path, k)
			ft, ok := known[k]
			if !ok {
				for name := range known {
					if strings.EqualFold(name, k) {
						return errorf(at, "member names are case-sensitive: the field is %q", name)
					}
				}
				return &Error{Path: at, Unknown: true, Msg: fmt.Sprintf("unknown field %q", k)}
			}
			if err := fields(val, ft, at); err != nil {
				return err
			}
		}
	case reflect.Map:
		obj, _ := tree.(map[string]any)
		for k, val := range obj {
			if err := fields(val, t.Elem(), join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		arr, _ := tree.([]any)
		for i, val := range arr {
			if err := fields(val, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldCache holds structFields' answer per type: a request type's fields
// do not change, and building the map made garbage on every request.
var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// structFields returns the JSON names of t's fields (as encoding/json
// names them, promoted fields of untagged embedded structs included).
// The map is shared: callers only read it.
func structFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m, _ := fieldCache.LoadOrStore(t, buildFields(t))
	return m.(map[string]reflect.Type)
}

func buildFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for n, ft := range structFields(et) {
					if _, ok := out[n]; !ok {
						out[n] = ft
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
