package gopdf

import (
	"io"
	"strconv"
)

// ProcSetObj is a PDF procSet object.
type ProcSetObj struct {
	//Font
	Relates             RelateFonts
	RelateColorSpaces   RelateColorSpaces
	RelateXobjs         RelateXobjects
	ExtGStates          []ExtGS
	ImportedTemplateIds map[string]int
	getRoot             func() *GoPdf
}

func (pr *ProcSetObj) init(funcGetRoot func() *GoPdf) {
	pr.getRoot = funcGetRoot
	pr.ImportedTemplateIds = make(map[string]int, 0)
	pr.ExtGStates = make([]ExtGS, 0)
}

func (pr *ProcSetObj) write(w io.Writer, objID int) error {
	b := objectText(w)
	b = append(b, "<<\n\t/ProcSet [/PDF /Text /ImageB /ImageC /ImageI]\n\t/Font <<\n"...)
	for _, relate := range pr.Relates {
		b = appendNamedRef(b, "\t\t/F", relate.CountOfFont+1, relate.IndexOfObj+1)
	}
	b = append(b, "\t>>\n\t/ColorSpace <<\n"...)
	for _, relate := range pr.RelateColorSpaces {
		b = appendNamedRef(b, "\t\t/CS", relate.CountOfColorSpace+1, relate.IndexOfObj+1)
	}
	b = append(b, "\t>>\n\t/XObject <<\n"...)
	for _, XObject := range pr.RelateXobjs {
		b = appendNamedRef(b, "\t\t/I", XObject.IndexOfObj+1, XObject.IndexOfObj+1)
	}
	// Write imported template name and their ids
	for tplName, objID := range pr.ImportedTemplateIds {
		b = append(append(b, "\t\t"...), tplName...)
		b = append(appendRef(append(b, ' '), objID), '\n')
	}
	b = append(b, "\t>>\n\t/ExtGState <<\n"...)
	for _, extGState := range pr.ExtGStates {
		b = appendNamedRef(b, "\t\t/GS", extGState.Index+1, extGState.Index+1)
	}
	b = append(b, "\t>>\n>>\n"...)
	_, err := w.Write(b)
	return err
}

// appendNamedRef appends a resource's line, prefix and n naming it and
// a reference to object id: "<prefix><n> <id> 0 R\n".
func appendNamedRef(b []byte, prefix string, n, id int) []byte {
	b = strconv.AppendInt(append(b, prefix...), int64(n), 10)
	return append(appendRef(append(b, ' '), id), '\n')
}

func (pr *ProcSetObj) getType() string {
	return "ProcSet"
}

// RelateFonts is a slice of RelateFont.
type RelateFonts []RelateFont

// IsContainsFamily checks if font family exists.
func (re *RelateFonts) IsContainsFamily(family string) bool {
	for _, rf := range *re {
		if rf.Family == family {
			return true
		}
	}
	return false
}

// IsContainsFamilyAndStyle checks if font with same name and style already exists .
func (re *RelateFonts) IsContainsFamilyAndStyle(family string, style int) bool {
	for _, rf := range *re {
		if rf.Family == family && rf.Style == style {
			return true
		}
	}
	return false
}

// RelateFont is a metadata index for fonts?
type RelateFont struct {
	Family string
	//etc /F1
	CountOfFont int
	//etc  5 0 R
	IndexOfObj int
	Style      int // Regular|Bold|Italic
}

type RelateColorSpaces []RelateColorSpace

type RelateColorSpace struct {
	Name string
	//etc /CS1
	CountOfColorSpace int
	//etc  5 0 R
	IndexOfObj int
}

// RelateXobjects is a slice of RelateXobject.
type RelateXobjects []RelateXobject

// RelateXobject is an index for ???
type RelateXobject struct {
	IndexOfObj int
}

// ExtGS is ???
type ExtGS struct {
	Index int
}
