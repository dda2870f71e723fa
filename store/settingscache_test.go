package store

import (
	"fmt"
	"reflect"
	"testing"
)

// fillAll sets every settable field v reaches to a value that is not its
// zero, giving pointers, slices and maps two elements' worth of content.
func fillAll(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n % 100))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n % 100))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillAll(p.Elem(), n)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fillAll(s.Index(i), n)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fillAll(k, n)
			fillAll(e, n)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				fillAll(v.Field(i), n)
			}
		}
	}
}

// changeInPlace changes every string, number and bool v reaches, through
// its pointers, slices and maps, without replacing any of them.
func changeInPlace(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "!")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Pointer:
		if !v.IsNil() {
			changeInPlace(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			changeInPlace(v.Index(i))
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value())
			changeInPlace(e)
			v.SetMapIndex(it.Key(), e)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				changeInPlace(v.Field(i))
			}
		}
	}
}

// shared returns the path of the first pointer, slice or map that a and b,
// of the same type, share.
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shared(a.Elem(), b.Elem(), path)
	case reflect.Slice:
		if a.Len() > 0 && b.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for i := range min(a.Len(), b.Len()) {
			if p := shared(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case reflect.Map:
		if !a.IsNil() && !b.IsNil() && a.Pointer() == b.Pointer() {
			return path
		}
		for it := a.MapRange(); it.Next(); {
			if bv := b.MapIndex(it.Key()); bv.IsValid() {
				if p := shared(it.Value(), bv, fmt.Sprintf("%s[%v]", path, it.Key())); p != "" {
					return p
				}
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	}
	return ""
}

// TestSettingsCache reads settings with every field set several times:
// each read is the same and shares nothing with another, a caller
// changing what it read changes no later read, and settings stored again,
// by this store or another, are read as stored.
func TestSettingsCache(t *testing.T) {
	t.Parallel()
	s, ctx := setup(t)
	var want Settings
	n := 0
	fillAll(reflect.ValueOf(&want).Elem(), &n)
	want.Branding.Logo = []byte{0x89, 'P', 'N', 'G'}
	if err := s.SaveSettings(ctx, "ten_a", want); err != nil {
		t.Fatal(err)
	}
	first, err := s.Settings(ctx, "ten_a")
	if err != nil {
		t.Fatal(err)
	}
	want.UpdatedAt = first.UpdatedAt
	if !reflect.DeepEqual(first, want) {
		t.Fatalf("read %+v, want %+v", first, want)
	}
	second, err := s.Settings(ctx, "ten_a")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(second, want) {
		t.Fatalf("read again %+v, want %+v", second, want)
	}
	if p := shared(reflect.ValueOf(first), reflect.ValueOf(second), "Settings"); p != "" {
		t.Fatalf("two reads share %s", p)
	}
	// A caller changes everything it read, in place.
	changeInPlace(reflect.ValueOf(&second).Elem())
	if reflect.DeepEqual(second, want) {
		t.Fatal("changeInPlace changed nothing")
	}
	third, err := s.Settings(ctx, "ten_a")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(third, want) {
		t.Fatalf("read after a caller changed its copy: %+v, want %+v", third, want)
	}

	// Stored again, by this store and by another on the same Redis.
	other, err := New(s.rdb, Config{SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range []*Store{s, other} {
		changed := want
		changed.Branding.Name = fmt.Sprintf("changed %d", i)
		changed.Email.SMTP = &SMTPSettings{Host: "smtp.example.com", Password: fmt.Sprintf("secret %d", i)}
		if err := st.SaveSettings(ctx, "ten_a", changed); err != nil {
			t.Fatal(err)
		}
		got, err := s.Settings(ctx, "ten_a")
		if err != nil {
			t.Fatal(err)
		}
		if got.Branding.Name != changed.Branding.Name || got.Email.SMTP.Password != changed.Email.SMTP.Password {
			t.Errorf("after a change stored by store %d: name %q, password %q", i, got.Branding.Name, got.Email.SMTP.Password)
		}
	}
}

// TestSettingsClone: a clone of settings with every field set, through
// every pointer, slice and map, equals them and shares nothing with them,
// so a field added to Settings and not to Clone fails here.
func TestSettingsClone(t *testing.T) {
	t.Parallel()
	var v Settings
	n := 0
	fillAll(reflect.ValueOf(&v).Elem(), &n)
	c := v.Clone()
	if !reflect.DeepEqual(c, v) {
		t.Fatalf("clone %+v, want %+v", c, v)
	}
	if p := shared(reflect.ValueOf(c), reflect.ValueOf(v), "Settings"); p != "" {
		t.Fatalf("the clone shares %s", p)
	}
	if c := (Settings{}).Clone(); !reflect.DeepEqual(c, Settings{}) {
		t.Errorf("the clone of empty settings is %+v", c)
	}
}

// BenchmarkSettingsCacheGet is a read of cached settings with every
// field set: the copy each read gets.
func BenchmarkSettingsCacheGet(b *testing.B) {
	var st Settings
	n := 0
	fillAll(reflect.ValueOf(&st).Elem(), &n)
	raw, _ := encodeRecord(st)
	var c settingsCache
	c.put("ten_a", raw, st)
	for b.Loop() {
		if _, ok := c.get("ten_a", raw); !ok {
			b.Fatal("not cached")
		}
	}
}
