package gopdf

import "sync"

// MapOfCharacterToGlyphIndex map of CharacterToGlyphIndex
type MapOfCharacterToGlyphIndex struct {
	keyIndexs map[rune]int //for search index in keys
	// ascii holds 1 + the index in Keys of each ASCII character set,
	// zero for none: most text is ASCII, and a map lookup per character
	// of every text was a tenth of a render.
	ascii [128]int32
	Keys  []rune
	Vals  []uint
}

// glyphIndexMaps holds the emptied maps of released documents' fonts.
var glyphIndexMaps sync.Pool

// maxKeptCharacters is the most characters a map may have had to be
// kept for another document: an invoice's font draws one or two hundred.
const maxKeptCharacters = 1024

// reusedGlyphIndexMap returns a map a released document handed back, or
// a new one.
func reusedGlyphIndexMap() *MapOfCharacterToGlyphIndex {
	if m, ok := glyphIndexMaps.Get().(*MapOfCharacterToGlyphIndex); ok {
		return m
	}
	return NewMapOfCharacterToGlyphIndex()
}

// release empties m and keeps it for another document's font.
func (m *MapOfCharacterToGlyphIndex) release() {
	if len(m.Keys) > maxKeptCharacters {
		return
	}
	clear(m.keyIndexs)
	m.ascii = [128]int32{}
	m.Keys, m.Vals = m.Keys[:0], m.Vals[:0]
	glyphIndexMaps.Put(m)
}

// NewMapOfCharacterToGlyphIndex new CharacterToGlyphIndex
func NewMapOfCharacterToGlyphIndex() *MapOfCharacterToGlyphIndex {
	var m MapOfCharacterToGlyphIndex
	m.keyIndexs = make(map[rune]int)
	// Room for the characters of a typical document, which would
	// otherwise be grown to a few times.
	m.Keys = make([]rune, 0, 128)
	m.Vals = make([]uint, 0, 128)
	return &m
}

// KeyExists key is exists?
func (m *MapOfCharacterToGlyphIndex) KeyExists(k rune) bool {
	/*for _, key := range m.Keys {
		if k == key {
			return true
		}
	}*/
	if k >= 0 && k < 128 {
		return m.ascii[k] != 0
	}
	if _, ok := m.keyIndexs[k]; ok {
		return true
	}
	return false
}

// Set set key and value to map
func (m *MapOfCharacterToGlyphIndex) Set(k rune, v uint) {
	if k >= 0 && k < 128 {
		// ASCII is looked up in ascii only.
		m.ascii[k] = int32(len(m.Keys)) + 1
	} else {
		m.keyIndexs[k] = len(m.Keys)
	}
	m.Keys = append(m.Keys, k)
	m.Vals = append(m.Vals, v)
}

// Index get index by key
func (m *MapOfCharacterToGlyphIndex) Index(k rune) (int, bool) {
	/*for i, key := range m.Keys {
		if k == key {
			return i, true
		}
	}*/
	if k >= 0 && k < 128 {
		if i := m.ascii[k]; i != 0 {
			return int(i) - 1, true
		}
		return -1, false
	}
	if index, ok := m.keyIndexs[k]; ok {
		return index, true
	}
	return -1, false
}

// Val get value by Key
func (m *MapOfCharacterToGlyphIndex) Val(k rune) (uint, bool) {
	i, ok := m.Index(k)
	if !ok {
		return 0, false
	}
	return m.Vals[i], true
}

// AllKeys get keys
func (m *MapOfCharacterToGlyphIndex) AllKeys() []rune {
	return m.Keys
}

// AllVals get all values
func (m *MapOfCharacterToGlyphIndex) AllVals() []uint {
	return m.Vals
}
