package store

import "sync"

// settingsCacheBytes bounds what settingsCache holds, counted as the
// stored bytes of its entries (a decoded entry takes about as much again).
// Past it the cache starts empty again.
const settingsCacheBytes = 4 << 20

// settingsCache keeps, per tenant, the settings last decoded and the
// stored bytes they were decoded from. Settings reads still GET the
// stored bytes every time; only when they are the very bytes decoded
// before are the JSON decoding and the decryption of secrets skipped, so
// a change is seen as soon as it is stored. Every read gets its own copy
// (Settings.Clone): a caller that changes what it got changes nothing here.
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
	return e.st.Clone(), true
}

// put keeps a copy of st, decoded from raw, for tenantID.
func (c *settingsCache) put(tenantID string, raw []byte, st Settings) {
	st = st.Clone()
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
