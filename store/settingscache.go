package store

import (
	"reflect"
	"sync"
)

// settingsCacheBytes bounds what settingsCache holds, counted as the
// stored bytes of its entries (a decoded entry takes about as much again).
// Past it the cache starts empty again.
const settingsCacheBytes = 4 << 20

// settingsCache keeps, per tenant, the settings last decoded and the
// stored bytes they were decoded from. Settings reads still GET the
// stored bytes every time; only when they are the very bytes decoded
// before are the JSON decoding and the decryption of secrets skipped, so
// a change is seen as soon as it is stored. Every read gets its own deep
// copy: a caller that changes what it got changes nothing here.
type settingsCache struct {
	mu    sync.Mutex
	m     map[string]cachedSettings
	bytes int
}

type cachedSettings struct {
	raw string
	st  Settings
}

// get returns a copy of tenantID's settings if they were decoded from raw.
func (c *settingsCache) get(tenantID string, raw []byte) (Settings, bool) {
	c.mu.Lock()
	e, ok := c.m[tenantID]
	c.mu.Unlock()
	if !ok || e.raw != string(raw) {
		return Settings{}, false
	}
	return deepCopy(e.st), true
}

// put keeps a copy of st, decoded from raw, for tenantID.
func (c *settingsCache) put(tenantID string, raw []byte, st Settings) {
	st = deepCopy(st)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[tenantID]; ok {
		c.bytes -= len(old.raw)
	}
	if c.m == nil || c.bytes+len(raw) > settingsCacheBytes {
		c.m, c.bytes = map[string]cachedSettings{}, 0
	}
	c.m[tenantID] = cachedSettings{raw: string(raw), st: st}
	c.bytes += len(raw)
}

// deepCopy returns v with every pointer, slice and map it reaches copied,
// so that nothing in the copy is shared with v.
func deepCopy[T any](v T) T {
	var out T
	copyValue(reflect.ValueOf(&out).Elem(), reflect.ValueOf(v))
	return out
}

// copyValue sets dst, which is settable, to a deep copy of src.
func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		copyValue(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			copyValue(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		for it := src.MapRange(); it.Next(); {
			v := reflect.New(src.Type().Elem()).Elem()
			copyValue(v, it.Value())
			m.SetMapIndex(it.Key(), v)
		}
		dst.Set(m)
	case reflect.Struct:
		dst.Set(src) // unexported fields and values as they are
		for i := range src.NumField() {
			if dst.Field(i).CanSet() {
				copyValue(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		v := reflect.New(src.Elem().Type()).Elem()
		copyValue(v, src.Elem())
		dst.Set(v)
	default:
		dst.Set(src)
	}
}
